import Foundation

extension Journey {
    /// The complaint a low rating opened, and its callback task.
    struct Complaint: Sendable {
        let complaintID: String
        let taskID: String
        /// When the review that opened it was answered.
        let opened: ContinuousClock.Instant
    }

    /// The member rates the visit 4, the first technician 2 and the second 5: the lowest is at
    /// the low-rating threshold, so a complaint opens with a callback task for the guide, who
    /// is told by SMS.
    func rate(_ visit: Visit, _ member: Member, _ people: People) async throws -> Complaint {
        let request = try await log.hop("completed → review request", since: visit.completed) {
            try await client.eventually("the member is asked to review the visit", timeout: patience) {
                let mine = try await client.call(.GET, at.feedback + "/api/v1/review-requests/mine", token: member.token)
                return (mine["requests"].array.first { $0["orderId"].string == visit.order }?["id"].string, "\(mine.status) \(mine.json)")
            }
        }
        log.line("member Wang Fang", "is asked to rate the visit")
        let ratings: [[String: any Sendable]] = [
            ["technicianId": cast.technicians[0], "rating": 2], ["technicianId": cast.technicians[1], "rating": 5],
        ]
        let review = try await client.must(
            [201],
            .POST,
            at.feedback + "/api/v1/review-requests/\(request)/review",
            token: member.token,
            body: ["visitRating": 4, "comment": "The first technician was in a hurry", "technicianRatings": ratings]
        )
        log.line("member Wang Fang", "rates the visit 4/5, \(cast.technicians[0]) 2/5, \(cast.technicians[1]) 5/5")
        let complaint = review["complaint"]
        guard let complaintID = complaint["complaintId"].string, let taskID = complaint["callbackTask"]["id"].string,
            complaint["callbackTask"]["assigneeId"].string == cast.guide
        else { throw JourneyFailure("a 2/5 rating opened no callback task for the guide: \(review.json)") }
        let opened = ContinuousClock.now
        log.line("feedback", "opens complaint \(complaintID); callback task \(taskID) for guide Li Na")
        let sms = try await log.hop("review → SMS to the guide", since: opened) {
            try await sent(to: cast.guide, eventType: "feedback.callback.created", token: people.guide)
        }
        log.line("SMS to Li Na (\(cast.guidePhone))", sms)
        return Complaint(complaintID: complaintID, taskID: taskID, opened: opened)
    }

    /// Nobody calls within the guide's deadline: the task climbs to the store manager, who is
    /// told by SMS and records the call.
    func escalate(_ complaint: Complaint, _ people: People) async throws {
        log.line("guide Li Na", "does not call back within \(guideMinutes) minute(s)")
        try await log.hop("callback created → escalated to the manager", since: complaint.opened) {
            _ = try await client.eventually("the task on the store manager's list", timeout: .seconds(guideMinutes * 60) + patience) {
                let mine = try await client.call(.GET, at.feedback + "/api/v1/callback-tasks/mine", token: people.manager)
                let task = mine["tasks"].array.first { $0["id"].string == complaint.taskID && $0["level"].string == "store_manager" }
                return (task.map { _ in true }, "\(mine.status) \(mine.json)")
            }
        }
        let escalated = ContinuousClock.now
        log.line("feedback", "escalates task \(complaint.taskID) to store manager Zhao Min")
        let sms = try await log.hop("escalated → SMS to the manager", since: escalated) {
            try await sent(to: cast.manager, eventType: "feedback.callback.escalated", token: people.manager)
        }
        log.line("SMS to Zhao Min (\(cast.managerPhone))", sms)
        let call = try await client.must(
            [200],
            .POST,
            at.feedback + "/api/v1/callback-tasks/\(complaint.taskID)/calls",
            token: people.manager,
            body: ["reached": true, "note": "Apologised; a second visit offered"]
        )
        guard call["status"].string == "completed" else { throw JourneyFailure("the manager's call left the task \(call.json)") }
        let complaintNow = try await client.must([200], .GET, at.feedback + "/api/v1/complaints/\(complaint.complaintID)", token: people.manager)
        log.line("store manager Zhao Min", "calls Wang Fang back and records it: complaint \(complaintNow["status"].string ?? "?")")
    }

    /// The text of the SMS sent to a staff member for an event, once notification has sent it.
    private func sent(to recipient: String, eventType: String, token: String) async throws -> String {
        let url = at.notification + "/api/v1/deliveries?recipientId=\(recipient)&channel=sms"
        return try await client.eventually("an SMS to \(recipient) for \(eventType)", timeout: patience) {
            let answer = try await client.call(.GET, url, token: token)
            let delivery = answer["deliveries"].array.first { $0["eventType"].string == eventType && $0["status"].string == "sent" }
            return (delivery?["body"].string, "\(answer.status) \(answer.json)")
        }
    }
}
