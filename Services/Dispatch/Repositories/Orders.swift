import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import Foundation
import Logging
import PostgresNIO

/// Service orders on the database: read (locked when they change), their status and seats
/// written, and every change an event and a timeline entry.
struct Orders: Sendable {
    let outbox: Outbox
    let logger: Logger

    /// The order with its seats and who was asked this round, in one round trip (the offer
    /// timers of a busy dealer run this many times a second).
    func load(_ id: UUID, lock: Bool, on connection: PostgresConnection) async throws -> ServiceOrder? {
        let rows = try await connection.query(
            """
            SELECT o.id, o.booking_id, o.member_id, o.store_id, o.dealer_id, o.guide_id, o.definition::text, o.status, o.reason,
                   o.starts_at, o.ends_at, o.address, o.no_candidate_alerted, o.deadline_alerted, o.round, b.coupon_code,
                   coalesce((SELECT st.time_zone FROM stores st WHERE st.store_id = o.store_id), 'UTC'),
                   (SELECT coalesce(json_agg(json_build_object('seat', s.seat, 'technicianId', s.technician_id, 'status', s.status,
                        'offerId', s.offer_id, 'expiresAt', extract(epoch FROM s.expires_at), 'why', s.why) ORDER BY s.seat), '[]')::text
                    FROM order_seats s WHERE s.order_id = o.id),
                   ARRAY(SELECT a.technician_id FROM offers_made a WHERE a.order_id = o.id AND a.round = o.round)
            FROM orders o JOIN bookings b ON b.id = o.booking_id WHERE o.id = \(id) \(unescaped: lock ? "FOR UPDATE OF o" : "")
            """,
            logger: logger
        )
        guard let row = try await rows.collect().first else { return nil }
        let (
            id, booking, member, store, dealer, guide, definition, status, reason, starts, ends, address, noCandidate, deadline, round, coupon, zone,
            seats, asked
        ) =
            try row.decode(
                (
                    UUID, UUID, String, String, String, String?, String, String, String?, Date, Date, String, Bool, Bool, Int, String?, String,
                    String, [String]
                ).self
            )
        return ServiceOrder(
            id: id,
            bookingId: booking,
            memberId: member,
            storeId: store,
            dealerId: dealer,
            timeZone: TimeZone(checking: zone) ?? .gmt,
            guideId: guide,
            serviceType: try JSONDecoder().decode(ServiceType.self, from: Data(definition.utf8)),
            status: OrderStatus(rawValue: status) ?? .cancelled,
            reason: reason,
            startsAt: starts,
            endsAt: ends,
            address: address,
            noCandidateAlerted: noCandidate,
            deadlineAlerted: deadline,
            round: round,
            couponCode: coupon,
            seats: try JSONDecoder().decode([SeatRow].self, from: Data(seats.utf8)).map(\.value),
            asked: Set(asked)
        )
    }

    /// A seat as the order's query writes it (the expiry in seconds since 1970).
    private struct SeatRow: Decodable {
        let seat: Int
        let technicianId: String
        let status: Seat.Status
        let offerId: UUID
        let expiresAt: Double?
        let why: String

        var value: Seat {
            Seat(
                seat: seat,
                technicianId: technicianId,
                status: status,
                offerId: offerId,
                expiresAt: expiresAt.map(Date.init(timeIntervalSince1970:)),
                why: why
            )
        }
    }

    func setStatus(_ order: ServiceOrder, _ status: OrderStatus, reason: String? = nil, at now: Date, on connection: PostgresConnection) async throws
    {
        try await connection.query(
            "UPDATE orders SET status = \(status.rawValue), reason = COALESCE(\(reason), reason), updated_at = \(now) WHERE id = \(order.id)",
            logger: logger
        )
    }

    /// The order's event of kind `Kind` (with the crew as it stands) and its timeline entry.
    func record<Kind: DispatchChangeKind>(
        _ kind: Kind.Type,
        _ order: ServiceOrder,
        crew: [String]? = nil,
        actor: String,
        reason: String?,
        at now: Date,
        on connection: PostgresConnection
    ) async throws {
        let change = OrderChange<Kind>(
            orderId: order.id,
            bookingId: order.bookingId,
            memberId: order.memberId,
            storeId: order.storeId,
            dealerId: order.dealerId,
            serviceType: order.serviceType.key,
            startsAt: order.startsAt,
            endsAt: order.endsAt,
            technicianIds: crew ?? order.crew,
            couponCode: order.couponCode,
            actorId: actor,
            reason: reason
        )
        try await outbox.record(change, aggregateID: "order-\(order.id)", on: connection)
        try await timeline(order.id, Kind.eventType, actor: actor, detail: reason, at: now, on: connection)
    }

    /// One seat's event and, unless the caller's statement wrote it (`timeline: false`), its
    /// timeline entry.
    func record<Kind: DispatchChangeKind>(
        _ kind: Kind.Type,
        _ order: ServiceOrder,
        seat: Int,
        technicianId: String,
        expiresAt: Date? = nil,
        actor: String,
        reason: String?,
        at now: Date,
        timeline: Bool = true,
        on connection: PostgresConnection
    ) async throws {
        let change = OfferChange<Kind>(
            orderId: order.id,
            seat: seat,
            technicianId: technicianId,
            memberId: order.memberId,
            storeId: order.storeId,
            dealerId: order.dealerId,
            serviceType: order.serviceType.key,
            startsAt: order.startsAt,
            expiresAt: expiresAt,
            actorId: actor,
            reason: reason
        )
        try await outbox.record(change, aggregateID: "order-\(order.id)", on: connection)
        guard timeline else { return }
        let detail = Self.seatDetail(seat, technicianId, reason)
        try await self.timeline(order.id, Kind.eventType, actor: actor, detail: detail, at: now, on: connection)
    }

    /// How a seat's timeline entry reads: `seat 2: t-17 (not answered in time)`.
    static func seatDetail(_ seat: Int, _ technicianId: String, _ reason: String?) -> String {
        "seat \(seat): \(technicianId)" + (reason.map { " (\($0))" } ?? "")
    }

    func timeline(_ orderId: UUID, _ kind: String, actor: String, detail: String?, at now: Date, on connection: PostgresConnection) async throws {
        try await connection.query(
            "INSERT INTO order_timeline (order_id, at, kind, actor, detail) VALUES (\(orderId), \(now), \(kind), \(actor), \(detail))",
            logger: logger
        )
    }

    /// Records how an offer ended (accepted, declined, expired, released): nobody is asked
    /// twice for one order in one round.
    func offerOutcome(
        _ orderId: UUID,
        technicianId: String,
        round: Int,
        _ outcome: String,
        reason: String?,
        at now: Date,
        on connection: PostgresConnection
    )
        async throws
    {
        try await connection.query(
            """
            UPDATE offers_made SET outcome = \(outcome), reason = \(reason), at = \(now)
            WHERE order_id = \(orderId) AND technician_id = \(technicianId) AND round = \(round) AND outcome IN ('offered', 'accepted')
            """,
            logger: logger
        )
    }
}
