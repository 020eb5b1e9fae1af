import Foundation

extension Journey {
    /// The member's id and token.
    struct Member: Sendable {
        let id: String
        let token: String
    }

    /// A booking confirmed with its coupon reserved: the coupon's code and the service order.
    struct Booked: Sendable {
        let coupon: String
        let order: String
    }

    /// The completed visit: the order, and when the crew completed it.
    struct Visit: Sendable {
        let order: String
        let completed: ContinuousClock.Instant
    }

    /// The member joins with the guide's invite code and buys a mattress a year and a day ago,
    /// so that its yearly mite removal is due.
    func join(_ people: People) async throws -> Member {
        let service = try await token(.service, "aftercare-demo")
        let joined = try await client.must(
            [201],
            .POST,
            at.membership + "/api/v1/members",
            token: service,
            body: [
                "phone": cast.memberPhone, "inviteCode": people.inviteCode, "name": "Wang Fang",
                "serviceMessagesConsent": true, "marketingConsent": false,
            ]
        )
        guard let id = joined["id"].string?.lowercased() else { throw JourneyFailure("a member joined without an id: \(joined.json)") }
        log.line("member Wang Fang", "joins with invite code \(people.inviteCode): member \(id), guide \(joined["guideId"].string ?? "none")")
        let bought = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-366 * 86_400))
        let item: [String: any Sendable] = ["sku": "MAT-QUEEN", "category": "mattress", "quantity": 1, "amountCents": 399_900]
        _ = try await client.must(
            [201],
            .POST,
            at.membership + "/api/v1/members/\(id)/purchases",
            token: people.hq,
            body: ["orderId": "o-\(cast.run)", "storeId": cast.store, "amountCents": 399_900, "items": [item], "purchasedAt": bought]
        )
        log.line("store", "records Wang Fang's queen mattress, bought \(bought.prefix(10))")
        let due = try await log.hop("purchase → guide's due list") {
            try await client.eventually("Wang Fang on the guide's due list", timeout: patience) {
                let list = try await client.call(.GET, at.dispatch + "/api/v1/service-due?limit=200", token: people.guide)
                return (list["items"].array.first { $0["memberId"].string?.lowercased() == id }, "\(list.json)")
            }
        }
        let overdue = due["daysOverdue"].int.map { "\($0) day(s) overdue" } ?? "due"
        log.line("guide Li Na", "sees Wang Fang on her due list: \(due["serviceType"].string ?? "?") \(overdue)")
        return Member(id: id, token: try await token(.member, id))
    }

    /// HQ makes a free mite-removal template, the guide gifts it, and the member books the
    /// first free slot with it; the booking is confirmed once the coupon service reserved it.
    func book(_ member: Member, _ people: People) async throws -> Booked {
        let template = try await client.must(
            [201],
            .POST,
            at.coupon + "/api/v1/coupon-templates",
            token: people.hq,
            body: ["name": "Free mite removal \(cast.run)", "kind": "free_service", "serviceType": "mite_removal", "validDays": 365, "perMember": 1]
        )
        guard let templateID = template["id"].string else { throw JourneyFailure("a template without an id: \(template.json)") }
        let gift: [String: any Sendable] = ["templateId": templateID, "memberId": member.id, "note": "yearly mite removal"]
        let coupon = try await client.eventually("the guide gifts the coupon", timeout: patience) {
            let answer = try await client.call(
                .POST,
                at.coupon + "/api/v1/coupons",
                token: people.guide,
                body: gift,
                headers: [("Idempotency-Key", "gift-\(cast.run)")]
            )
            return (answer.status == 201 ? answer["code"].string : nil, "\(answer.status) \(answer.json)")
        }
        log.line("guide Li Na", "gifts Wang Fang a free mite removal: coupon \(coupon)")
        let slots = at.dispatch + "/api/v1/slots?serviceType=mite_removal&days=7"
        let slot = try await client.eventually("a free slot for Wang Fang", timeout: patience) {
            let answer = try await client.call(.GET, slots, token: member.token)
            return (answer["slots"].array.first { ($0["room"].int ?? 0) > 0 }, "\(answer.status) \(answer.json)")
        }
        let date = slot["date"].string ?? ""
        let window = slot["window"].string ?? ""
        let booking = try await client.must(
            [201],
            .POST,
            at.dispatch + "/api/v1/bookings",
            token: member.token,
            body: ["serviceType": "mite_removal", "date": date, "window": window, "address": "Room 1203, 8 Harbour Rd", "couponCode": coupon]
        )
        guard let bookingID = booking["id"].string else { throw JourneyFailure("a booking without an id: \(booking.json)") }
        log.line("member Wang Fang", "books \(date) \(window) with coupon \(coupon): \(booking["status"].string ?? "?")")
        let order = try await log.hop("booking → coupon reserved, confirmed") {
            try await client.eventually("the booking confirmed", timeout: patience) {
                let answer = try await client.call(.GET, at.dispatch + "/api/v1/bookings/\(bookingID)", token: member.token)
                if answer["status"].string == "refused" { throw JourneyFailure("the booking was refused: \(answer.json)") }
                return (answer["status"].string == "confirmed" ? answer["orderId"].string : nil, "\(answer.json)")
            }
        }
        log.line("dispatch", "confirms the booking (coupon reserved): service order \(order)")
        return Booked(coupon: coupon, order: order)
    }

    /// Both technicians accept their seats, go, work the sixteen steps and complete.
    func visit(_ booked: Booked, _ people: People) async throws -> Visit {
        let url = at.dispatch + "/api/v1/orders/\(booked.order)"
        try await log.hop("order → offered to both technicians") {
            for (index, technician) in cast.technicians.enumerated() {
                _ = try await client.eventually("\(technician) is offered a seat", timeout: patience) {
                    let answer = try await client.call(.GET, url, token: people.technicians[index])
                    let offered = answer["seats"].array.contains { $0["technicianId"].string == technician && $0["status"].string == "offered" }
                    return (offered ? true : nil, "\(answer.status) \(answer.json)")
                }
            }
        }
        for (index, technician) in cast.technicians.enumerated() {
            let accepted = try await client.must([200], .POST, url + "/accept", token: people.technicians[index])
            log.line("technician \(technician)", "accepts the offer; the order is \(accepted["status"].string ?? "?")")
        }
        let order = try await client.must([200], .GET, url, token: people.technicians[0])
        guard order["status"].string == "dispatched" else { throw JourneyFailure("both seats accepted, yet the order is \(order.json)") }
        let lead = people.technicians[0]
        _ = try await client.must([200], .POST, url + "/en-route", token: lead)
        _ = try await client.must([200], .POST, url + "/start", token: lead)
        log.line("technician \(cast.technicians[0])", "is on the way, then starts the visit")
        for step in order["checklist"].array {
            guard let number = step["step"].int ?? step["number"].int else { throw JourneyFailure("a checklist step without a number: \(step)") }
            var body: [String: any Sendable] = [:]
            if step["needsNote"].bool == true { body["note"] = "checked with the member" }
            if step["needsPhoto"].bool == true { body["photo"] = "photos/\(cast.run)/\(number).jpg" }
            let worker = people.technicians[number % 2]
            _ = try await client.must([200], .PUT, url + "/steps/\(number)", token: worker, body: body)
        }
        log.line("crew", "works the \(order["checklist"].array.count) steps of the checklist, in order")
        let completed = try await client.must([200], .POST, url + "/complete", token: lead)
        let completedAt = ContinuousClock.now
        log.line("technician \(cast.technicians[0])", "completes the visit: \(completed["status"].string ?? "?")")
        try await log.hop("completed → coupon consumed", since: completedAt) {
            _ = try await client.eventually("the coupon consumed", timeout: patience) {
                let coupon = try await client.call(.GET, at.coupon + "/api/v1/coupons/\(booked.coupon)", token: people.guide)
                return (coupon["status"].string == "consumed" ? true : nil, "\(coupon.status) \(coupon.json)")
            }
        }
        log.line("coupon service", "coupon \(booked.coupon) is consumed by order \(booked.order)")
        return Visit(order: booked.order, completed: completedAt)
    }
}
