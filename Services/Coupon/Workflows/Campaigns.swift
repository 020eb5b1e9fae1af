import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Campaigns: HQ or a dealer admin issues one template to a segment of members (a store, a
/// dealer, a tier, a tag, or all of them together). A durable timer issues one batch per
/// transaction, in member id order, and commits where it got to with the coupons, so a
/// restart goes on from the last batch; memory stays one batch deep however large the
/// segment. Each member's coupon has an issue key naming the campaign, so a batch repeated
/// after a crash issues nothing twice; the budget and per-member limit hold as for any issue.
struct Campaigns: Sendable {
    static let job = "coupon.campaign"
    let database: PostgresClient
    let directory: Directory
    let issuer: Issuer
    let settings: CouponSettings
    let logger: Logger
    var clock: any BusinessClock { issuer.clock }

    struct Segment: Codable, Sendable, Equatable {
        var storeId: String?
        var dealerId: String?
        var tier: String?
        var tag: String?
    }

    enum Status: String, Codable, Sendable {
        case running, finished, stopped
    }

    struct View: ResponseCodable, Sendable, Equatable {
        let id: UUID
        let name: String
        let templateId: UUID
        let segment: Segment
        /// Members in the segment when the campaign started.
        let matched: Int
        let status: Status
        let stopReason: String?
        let considered: Int
        let issued: Int
        let skipped: Int
        let createdBy: String
        let createdAt: Date
        let finishedAt: Date?
    }

    struct Listing: ResponseCodable, Sendable {
        let campaigns: [View]
    }

    struct Payload: Codable, Sendable {
        let campaignId: UUID
        let batch: Int
    }

    static let columns = """
        id, name, template_id, segment::text, matched, status, stop_reason, considered, issued, skipped, created_by, created_at, finished_at
        """

    /// Starts a campaign (or answers the one started under the caller's `key`).
    func start(_ request: CampaignRequest, by caller: Principal, key: String?) async throws -> (View, created: Bool) {
        try await database.transaction(logger: logger) { connection in
            let requestKey = key.map { "\(caller.subject)/\($0)" }
            if let requestKey {
                let started = try await TransactionLock.answered(requestKey, in: .campaignKey, on: connection, logger: logger) {
                    try await connection.query(
                        "SELECT \(unescaped: Self.columns) FROM campaigns WHERE request_key = \(requestKey)",
                        logger: logger
                    ).collect().first
                }
                if let started { return (try Self.view(started), false) }
            }
            let segment = try await scoped(request.segment ?? Segment(), for: caller, on: connection)
            let template = try await issuer.check(request.templateId, dealerId: segment.dealerId, role: caller.role, on: connection)
            guard Access.seesTemplate(caller, dealerId: template.dealerId) else {
                throw ProblemDetails.validation(field: "templateId", "is not a coupon template you may use")
            }
            let matched = try await count(segment, on: connection)
            let now = clock.now()
            let id = UUID()
            let rows = try await connection.query(
                """
                INSERT INTO campaigns (id, name, template_id, dealer_id, segment, matched, status, request_key, created_by, created_at, updated_at)
                VALUES (\(id), \(request.name), \(request.templateId), \(segment.dealerId), \(try Self.json(segment))::jsonb, \(matched),
                        'running', \(requestKey), \(caller.subject), \(now), \(now))
                RETURNING \(unescaped: Self.columns)
                """,
                logger: logger
            ).collect()
            try await schedule(Payload(campaignId: id, batch: 0), at: now, on: connection)
            guard let row = rows.first else { throw ProblemDetails.notFound("No such campaign.") }
            logger.info("campaign started", metadata: ["campaign": "\(id)", "matched": "\(matched)", "by": "\(caller.subject)"])
            return (try Self.view(row), true)
        }
    }

    /// The segment as the caller may reach it: a dealer admin's stays within their dealer; a
    /// store brings its dealer.
    private func scoped(_ segment: Segment, for caller: Principal, on connection: PostgresConnection) async throws -> Segment {
        var segment = segment
        if caller.role != .hqAdmin {
            if let dealer = segment.dealerId, dealer != caller.dealerID {
                throw ProblemDetails.validation(field: "segment.dealerId", "is not your dealer")
            }
            segment.dealerId = caller.dealerID
        }
        if let store = segment.storeId {
            guard let dealer = try await directory.dealer(ofStore: store, on: connection), segment.dealerId == nil || segment.dealerId == dealer
            else {
                throw ProblemDetails.validation(field: "segment.storeId", "is not a store you may reach")
            }
            segment.dealerId = dealer
        }
        return segment
    }

    func list(for caller: Principal) async throws -> Listing {
        let rows = try await database.rows(
            """
            SELECT \(unescaped: Self.columns) FROM campaigns WHERE \(caller.role == .hqAdmin) OR dealer_id = \(caller.dealerID ?? "")
            ORDER BY created_at DESC, id LIMIT 200
            """,
            logger: logger
        )
        return Listing(campaigns: try rows.map(Self.view))
    }

    func show(_ id: UUID, for caller: Principal) async throws -> View {
        let rows = try await database.rows(
            "SELECT \(unescaped: Self.columns) FROM campaigns WHERE id = \(id) AND (\(caller.role == .hqAdmin) OR dealer_id = \(caller.dealerID ?? ""))",
            logger: logger
        )
        guard let row = rows.first else { throw ProblemDetails.notFound("No such campaign.") }
        return try Self.view(row)
    }

    /// Stops a running campaign before its next batch; what it issued stays issued.
    func stop(_ id: UUID, by caller: Principal) async throws -> View {
        let current = try await show(id, for: caller)
        guard current.status == .running else { throw ProblemDetails.conflict("The campaign has \(current.status.rawValue) already.") }
        return try await database.transaction(logger: logger) { connection in
            try await end(id, .stopped, reason: "stopped by \(caller.subject)", on: connection)
            guard
                let row = try await connection.query("SELECT \(unescaped: Self.columns) FROM campaigns WHERE id = \(id)", logger: logger)
                    .collect().first
            else { throw ProblemDetails.notFound("No such campaign.") }
            return try Self.view(row)
        }
    }

    /// One batch: the next members of the segment, as many as the batch and the budget
    /// allow, issued on the campaign's and the template's locked rows.
    func run(_ job: ScheduledJob, on connection: PostgresConnection) async throws {
        let payload = try JSONDecoder().decode(Payload.self, from: Data(job.payload.utf8))
        let rows = try await connection.query(
            "SELECT template_id, segment::text, status, last_member FROM campaigns WHERE id = \(payload.campaignId) FOR UPDATE",
            logger: logger
        ).collect()
        guard let (templateId, segmentJSON, status, lastMember) = try rows.first?.decode((UUID, String, String, String).self),
            status == Status.running.rawValue
        else { return }
        let segment = try JSONDecoder().decode(Segment.self, from: Data(segmentJSON.utf8))
        let template: Templates.View
        do {
            template = try await issuer.check(templateId, dealerId: segment.dealerId, role: nil, lock: true, on: connection)
        } catch let refusal as ProblemDetails {
            return try await end(payload.campaignId, .stopped, reason: refusal.detail ?? refusal.title, on: connection)
        }
        let room = template.definition.quantity.map { $0 - template.issued } ?? settings.campaignBatch
        let members = try await next(segment, after: lastMember, limit: min(settings.campaignBatch, room), on: connection)
        guard let last = members.last else { return try await end(payload.campaignId, .finished, reason: nil, on: connection) }
        let outcome = try await issuer.issue(
            batch: members,
            template: template,
            actor: "campaign-\(payload.campaignId.lowercasedString)",
            why: "campaign: \(payload.campaignId.lowercasedString)",
            key: { "campaign/\(payload.campaignId.lowercasedString)/\($0)" },
            on: connection
        )
        try await connection.query(
            """
            UPDATE campaigns SET last_member = \(last.memberId), considered = considered + \(members.count),
                issued = issued + \(outcome.issued.count), skipped = skipped + \(outcome.skipped), updated_at = \(clock.now())
            WHERE id = \(payload.campaignId)
            """,
            logger: logger
        )
        if members.count < settings.campaignBatch && room > members.count {
            return try await end(payload.campaignId, .finished, reason: nil, on: connection)
        }
        let next = Payload(campaignId: payload.campaignId, batch: payload.batch + 1)
        try await schedule(next, at: clock.now().addingTimeInterval(settings.campaignPause), on: connection)
    }

    private func next(
        _ segment: Segment,
        after lastMember: String,
        limit: Int,
        on connection: PostgresConnection
    ) async throws
        -> [MemberPlacement]
    {
        guard limit > 0 else { return [] }
        // Every parameter is named even when a filter is off (NULL), so one plan serves all
        // segments; member_id order walks the primary key.
        let rows = try await connection.query(
            """
            SELECT member_id, guide_id, store_id, dealer_id FROM members
            WHERE member_id > \(lastMember)
              AND (\(segment.storeId)::text IS NULL OR store_id = \(segment.storeId))
              AND (\(segment.dealerId)::text IS NULL OR dealer_id = \(segment.dealerId))
              AND (\(segment.tier)::text IS NULL OR tier = \(segment.tier))
              AND (\(segment.tag)::text IS NULL OR \(segment.tag) = ANY(tags))
            ORDER BY member_id LIMIT \(limit)
            """,
            logger: logger
        )
        return try await rows.collect().map { row in
            let (id, guide, store, dealer) = try row.decode((String, String?, String, String).self)
            return MemberPlacement(memberId: id, guideId: guide, storeId: store, dealerId: dealer)
        }
    }

    private func count(_ segment: Segment, on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.query(
            """
            SELECT count(*)::int FROM members
            WHERE (\(segment.storeId)::text IS NULL OR store_id = \(segment.storeId))
              AND (\(segment.dealerId)::text IS NULL OR dealer_id = \(segment.dealerId))
              AND (\(segment.tier)::text IS NULL OR tier = \(segment.tier))
              AND (\(segment.tag)::text IS NULL OR \(segment.tag) = ANY(tags))
            """,
            logger: logger
        ).collect()
        return try rows.first?.decode(Int.self) ?? 0
    }

    private func end(_ id: UUID, _ status: Status, reason: String?, on connection: PostgresConnection) async throws {
        let now = clock.now()
        try await connection.query(
            """
            UPDATE campaigns SET status = \(status.rawValue), stop_reason = \(reason), finished_at = \(now), updated_at = \(now)
            WHERE id = \(id) AND status = 'running'
            """,
            logger: logger
        )
        logger.info("campaign ended", metadata: ["campaign": "\(id)", "status": "\(status.rawValue)", "reason": "\(reason ?? "")"])
    }

    private func schedule(_ payload: Payload, at dueAt: Date, on connection: PostgresConnection) async throws {
        try await JobScheduler.schedule(
            kind: Self.job,
            dueAt: dueAt,
            payload: String(decoding: try JSONEncoder().encode(payload), as: UTF8.self),
            uniqueKey: "campaign-\(payload.campaignId.lowercasedString)-\(payload.batch)",
            on: connection,
            logger: logger
        )
    }

    static func json(_ segment: Segment) throws -> String { String(decoding: try JSONEncoder().encode(segment), as: UTF8.self) }

    static func view(_ row: PostgresRow) throws -> View {
        let (id, name, template, segment, matched, status, reason, considered, issued, skipped, by, at, finished) = try row.decode(
            (UUID, String, UUID, String, Int, String, String?, Int, Int, Int, String, Date, Date?).self
        )
        return View(
            id: id,
            name: name,
            templateId: template,
            segment: try JSONDecoder().decode(Segment.self, from: Data(segment.utf8)),
            matched: matched,
            status: Status(rawValue: status) ?? .stopped,
            stopReason: reason,
            considered: considered,
            issued: issued,
            skipped: skipped,
            createdBy: by,
            createdAt: at,
            finishedAt: finished
        )
    }
}

extension TransactionLock.Space {
    /// A campaign's `Idempotency-Key`, with its caller.
    static let campaignKey = Self(29)
}
