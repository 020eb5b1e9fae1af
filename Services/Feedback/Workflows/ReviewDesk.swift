import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// What a member sends: 1–5 for the visit, 1–5 for each technician of the order, a comment.
struct ReviewSubmission: ValidatedRequest {
    let visitRating: Int
    let technicianRatings: [TechnicianRating]
    let comment: String?

    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if !(1...5).contains(visitRating) { problems.append(.init(field: "visitRating", message: "must be 1 to 5")) }
        for (index, rating) in technicianRatings.enumerated() where !(1...5).contains(rating.rating) {
            problems.append(.init(field: "technicianRatings[\(index)].rating", message: "must be 1 to 5"))
        }
        if (comment?.count ?? 0) > 1000 { problems.append(.init(field: "comment", message: "must be at most 1000 characters")) }
        return problems
    }

    /// Each technician of the visit rated exactly once, and nobody else.
    func problems(technicians: [String]) -> [FieldProblem] {
        let rated = technicianRatings.map(\.technicianId)
        if Set(rated) != Set(technicians) || rated.count != technicians.count {
            return [.init(field: "technicianRatings", message: "must rate each technician of the visit once: \(technicians.joined(separator: ", "))")]
        }
        return []
    }

    /// The lowest rating given; at or below the threshold the review opens a complaint.
    var lowest: Int { ([visitRating] + technicianRatings.map(\.rating)).min() ?? visitRating }

    /// The complaint a low review opens on the member's behalf.
    func complaint(orderId: String) -> OpenComplaintRequest {
        let text = comment?.trimmingCharacters(in: .whitespacesAndNewlines)
        let ratings = "Visit rated \(visitRating)/5" + technicianRatings.map { ", \($0.technicianId) \($0.rating)/5" }.joined()
        return OpenComplaintRequest(
            memberId: nil,
            channel: ComplaintChannel.review.rawValue,
            category: ComplaintCategory.serviceVisit.rawValue,
            severity: lowest <= 1 ? ComplaintSeverity.high.rawValue : ComplaintSeverity.medium.rawValue,
            description: String(((text?.isEmpty ?? true) ? ratings + "." : "\(ratings): \(text ?? "")").prefix(OpenComplaintRequest.maxDescription)),
            relatedReference: String(orderId.prefix(100))
        )
    }
}

/// Asks members to review completed service visits (from dispatch's events) and lets the
/// requests lapse. Needs no more than the outbox, so the event handler can be built before
/// the rest of the service.
struct ReviewInvitations: Sendable {
    static let expiryJob = "feedback.review.expire"

    let outbox: Outbox
    let settings: FeedbackSettings
    let logger: Logger

    /// A visit was completed: ask the member, once per order, until the request lapses.
    func requestReview(_ event: ServiceOrderCompleted, cause: EventMetadata, on connection: PostgresConnection) async throws {
        let id = UUID()
        let expiresAt = event.completedAt.addingTimeInterval(settings.reviewExpiresAfter)
        let rows = try await connection.query(
            """
            INSERT INTO review_requests (id, service_order_id, member_id, store_id, dealer_id, technician_ids, completed_at, expires_at, status)
            VALUES (\(id), \(event.orderId), \(event.memberId), \(event.storeId), \(event.dealerId), \(event.technicianIds), \(event.completedAt), \(expiresAt), 'requested')
            ON CONFLICT (service_order_id) DO NOTHING RETURNING 1
            """,
            logger: logger
        )
        guard try await rows.collect().count == 1 else { return }  // the same order completed twice: one request
        try await outbox.record(
            ReviewRequested(
                requestId: id,
                orderId: event.orderId,
                memberId: event.memberId,
                storeId: event.storeId,
                dealerId: event.dealerId,
                technicianIds: event.technicianIds,
                expiresAt: expiresAt
            ),
            aggregateID: "review-\(id)",
            causedBy: cause,
            on: connection
        )
        try await JobScheduler.schedule(
            kind: Self.expiryJob,
            dueAt: expiresAt,
            payload: id.uuidString,
            uniqueKey: "review-expire-\(id)",
            on: connection,
            logger: logger
        )
    }

    func expire(_ job: ScheduledJob, on connection: PostgresConnection) async throws {
        guard let id = UUID(uuidString: job.payload) else { throw FeedbackJobError(detail: "review expiry payload is not a request id") }
        try await connection.query("UPDATE review_requests SET status = 'expired' WHERE id = \(id) AND status = 'requested'", logger: logger)
    }
}

/// The member's review and the complaint a low one opens, in one transaction.
struct ReviewDesk: Sendable {
    let complaints: ComplaintDesk
    let settings: FeedbackSettings
    var logger: Logger { complaints.logger }

    struct RequestView: ResponseCodable, Sendable {
        let id: UUID
        let orderId: String
        let memberId: String
        let storeId: String
        let dealerId: String
        let technicianIds: [String]
        let completedAt: Date
        let expiresAt: Date
        let status: String
    }

    struct Submitted: ResponseCodable, Sendable {
        let requestId: UUID
        /// Set when the rating was low enough to open a complaint.
        let complaint: ComplaintDesk.Opened?
    }

    func pending(for caller: Principal) async throws -> [RequestView] {
        try await requests(where: "member_id = $1 AND status = 'requested' AND expires_at > $2", caller.subject, complaints.clock.now())
    }

    /// A request the caller may see: the member's own, or staff within scope.
    func request(_ id: UUID, for caller: Principal) async throws -> RequestView {
        guard let request = try await requests(where: "id = $1", id, nil).first,
            caller.role == .member ? request.memberId == caller.subject : Access.covers(caller, storeId: request.storeId, dealerId: request.dealerId)
        else { throw ProblemDetails.notFound("No such review request.") }
        return request
    }

    func submit(_ id: UUID, _ review: ReviewSubmission, by caller: Principal) async throws -> Submitted {
        try await complaints.transaction { connection in
            let rows = try await connection.query(
                "SELECT service_order_id, member_id, store_id, dealer_id, technician_ids, expires_at, status FROM review_requests WHERE id = \(id) FOR UPDATE",
                logger: logger
            )
            var found: (String, String, String, String, [String], Date, String)?
            for try await row in rows.decode((String, String, String, String, [String], Date, String).self) { found = row }
            guard let (orderId, memberId, storeId, dealerId, technicians, expiresAt, status) = found, caller.role == .member,
                caller.subject == memberId
            else {
                throw ProblemDetails.notFound("No such review request.")
            }
            let now = complaints.clock.now()
            guard status == "requested" else {
                throw ProblemDetails.conflict(status == "reviewed" ? "This visit is already reviewed." : "This review request has expired.")
            }
            guard now <= expiresAt else { throw ProblemDetails.conflict("This review request has expired.") }
            let mismatch = review.problems(technicians: technicians)
            if !mismatch.isEmpty { throw ProblemDetails.validation(mismatch) }

            var opened: ComplaintDesk.Opened?
            if review.lowest <= settings.lowRatingThreshold {
                let member =
                    try await complaints.directory.member(memberId, on: connection)
                    ?? MemberPlacement(memberId: memberId, guideId: nil, storeId: storeId, dealerId: dealerId)
                opened = try await complaints.open(
                    review.complaint(orderId: orderId),
                    for: member,
                    openedBy: "review",
                    idempotencyKey: nil,
                    on: connection
                )
            }
            let ratings = String(decoding: try JSONEncoder().encode(review.technicianRatings), as: UTF8.self)
            try await connection.query(
                """
                INSERT INTO reviews (request_id, visit_rating, technician_ratings, comment, submitted_at, complaint_id)
                VALUES (\(id), \(review.visitRating), \(ratings)::jsonb, \(review.comment), \(now), \(opened?.complaintId))
                """,
                logger: logger
            )
            try await connection.query("UPDATE review_requests SET status = 'reviewed' WHERE id = \(id)", logger: logger)
            _ = try await JobScheduler.cancel(uniqueKey: "review-expire-\(id)", on: connection, logger: logger)
            try await complaints.outbox.record(
                ReviewSubmitted(
                    requestId: id,
                    orderId: orderId,
                    memberId: memberId,
                    storeId: storeId,
                    dealerId: dealerId,
                    visitRating: review.visitRating,
                    technicianRatings: review.technicianRatings,
                    comment: review.comment,
                    submittedAt: now,
                    complaintId: opened?.complaintId
                ),
                aggregateID: "review-\(id)",
                on: connection
            )
            return Submitted(requestId: id, complaint: opened)
        }
    }

    private func requests(where condition: String, _ first: some PostgresEncodable & Sendable, _ second: Date?) async throws -> [RequestView] {
        var bindings = PostgresBindings()
        try bindings.append(first)
        if let second { bindings.append(second) }
        let rows = try await complaints.database.rows(
            PostgresQuery(
                unsafeSQL: """
                    SELECT id, service_order_id, member_id, store_id, dealer_id, technician_ids, completed_at, expires_at, status
                    FROM review_requests WHERE \(condition) ORDER BY completed_at DESC LIMIT 100
                    """,
                binds: bindings
            ),
            logger: logger
        )
        var result: [RequestView] = []
        for row in rows {
            let (id, orderId, memberId, storeId, dealerId, technicians, completedAt, expiresAt, status) =
                try row.decode((UUID, String, String, String, String, [String], Date, Date, String).self)
            result.append(
                RequestView(
                    id: id,
                    orderId: orderId,
                    memberId: memberId,
                    storeId: storeId,
                    dealerId: dealerId,
                    technicianIds: technicians,
                    completedAt: completedAt,
                    expiresAt: expiresAt,
                    status: status
                )
            )
        }
        return result
    }
}
