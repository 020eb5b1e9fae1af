import AftercareContracts
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Who is due for a recurring service: for each member in the caller's scope and each
/// recurring service type, the visit counts from their last completed visit of that type,
/// or, before the first, from their first purchase of a product the service is for. Members
/// whose next visit is due within `soonDays` or overdue are listed, the most overdue first,
/// then the higher tier (more qualifying spend), with whether a booking is already open.
struct ServiceDue: Sendable {
    let database: PostgresClient
    let clock: any BusinessClock
    let logger: Logger
    var soonDays = 30

    struct Item: Codable, Sendable, Equatable {
        let memberId: String
        let name: String?
        let tier: String?
        let storeId: String
        let serviceType: String
        let dueAt: Date
        /// Negative while the visit is only due soon.
        let daysOverdue: Int
        /// `visit` (the last completed one) or `purchase` (the first product it serves).
        let countsFrom: String
        let lastVisitAt: Date?
        let purchasedAt: Date?
        let bookingOpen: Bool
    }

    struct Page: ResponseCodable, Sendable {
        let items: [Item]
        /// Pass as `cursor` for the next page; absent on the last.
        let nextCursor: String?
    }

    /// Where the last page ended: the sort key of its last row.
    struct Cursor: Codable, Sendable, Equatable {
        let dueAt: Date
        let spend: Int64
        let memberId: String
        let serviceType: String

        var text: String {
            let data = (try? JSONEncoder().encode(self)) ?? Data()
            return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        }
    }

    func page(for caller: Principal, storeId: String?, limit: Int, after cursor: Cursor?) async throws -> Page {
        let (scope, key) = try Self.scope(caller, storeId: storeId)
        // A dealer admin who names a store sees it only if it is their dealer's.
        let dealer = caller.role == .dealerAdmin ? caller.dealerID ?? "" : nil
        let now = clock.now()
        let horizon = now.addingTimeInterval(TimeInterval(soonDays) * 86400)
        let rows = try await database.rows(
            """
            WITH recurring AS (
                SELECT key, (definition->>'intervalDays')::int AS interval_days,
                       ARRAY(SELECT jsonb_array_elements_text(definition->'categories')) AS categories
                FROM service_types WHERE jsonb_typeof(definition->'intervalDays') = 'number'
            ),
            scoped AS (
                SELECT member_id, name, tier, tier_spend_cents, store_id FROM members m
                WHERE \(unescaped: scope) = \(key) AND (\(dealer)::text IS NULL OR m.dealer_id = \(dealer))
            ),
            anchored AS (
                SELECT s.*, r.key, r.interval_days,
                    (SELECT max(o.starts_at) FROM orders o WHERE o.member_id = s.member_id AND o.service_type = r.key AND o.status = 'completed') AS last_visit,
                    (SELECT min(p.purchased_at) FROM purchases p WHERE p.member_id = s.member_id AND NOT p.refunded AND p.categories && r.categories) AS purchased
                FROM scoped s CROSS JOIN recurring r
            ),
            due AS (
                SELECT *, COALESCE(last_visit, purchased) + make_interval(days => interval_days) AS due_at FROM anchored
                WHERE COALESCE(last_visit, purchased) IS NOT NULL
            )
            SELECT d.member_id, d.name, d.tier, d.store_id, d.key, d.due_at, d.last_visit, d.purchased, d.tier_spend_cents,
                   EXISTS (SELECT 1 FROM bookings b LEFT JOIN orders o ON o.booking_id = b.id
                           WHERE b.member_id = d.member_id AND b.service_type = d.key
                             AND (b.status = 'awaiting_coupon' OR (b.status = 'confirmed' AND o.status IN ('pending_dispatch', 'offered', 'dispatched', 'en_route', 'in_progress'))))
            FROM due d
            WHERE d.due_at <= \(horizon)
              AND (\(cursor == nil) OR (d.due_at, -d.tier_spend_cents, d.member_id, d.key) > (\(cursor?.dueAt ?? now), \(-(cursor?.spend ?? 0)), \(cursor?.memberId ?? ""), \(cursor?.serviceType ?? "")))
            ORDER BY d.due_at, -d.tier_spend_cents, d.member_id, d.key
            LIMIT \(limit + 1)
            """,
            logger: logger
        )
        var items: [Item] = []
        var last: Cursor?
        for row in rows.prefix(limit) {
            let (member, name, tier, store, type, dueAt, lastVisit, purchased, spend, open) = try row.decode(
                (String, String?, String?, String, String, Date, Date?, Date?, Int64, Bool).self
            )
            items.append(
                Item(
                    memberId: member,
                    name: name,
                    tier: tier,
                    storeId: store,
                    serviceType: type,
                    dueAt: dueAt,
                    daysOverdue: Int((now.timeIntervalSince(dueAt) / 86400).rounded(.down)),
                    countsFrom: lastVisit == nil ? "purchase" : "visit",
                    lastVisitAt: lastVisit,
                    purchasedAt: purchased,
                    bookingOpen: open
                )
            )
            last = Cursor(dueAt: dueAt, spend: spend, memberId: member, serviceType: type)
        }
        return Page(items: items, nextCursor: rows.count > limit ? last?.text : nil)
    }

    /// The members column and value the caller's list is drawn from.
    static func scope(_ caller: Principal, storeId: String?) throws -> (String, String) {
        switch caller.role {
        case .guide: return ("m.guide_id", caller.subject)
        case .storeManager: return ("m.store_id", caller.storeID ?? "")
        case .dealerAdmin: return storeId.map { ("m.store_id", $0) } ?? ("m.dealer_id", caller.dealerID ?? "")
        case .hqAdmin:
            guard let storeId else { throw ProblemDetails.validation(field: "storeId", "is required for HQ: name the store to list") }
            return ("m.store_id", storeId)
        default: throw ProblemDetails.forbidden("The due list is for guides, store managers, dealer admins and HQ.")
        }
    }
}

extension ServiceDue.Cursor {
    /// A cursor as `text` gave it out; nil for anything else.
    init?(_ text: String) {
        let base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard text.count <= 400, let data = Data(base64Encoded: base64), let cursor = try? JSONDecoder().decode(Self.self, from: data) else {
            return nil
        }
        // A cursor is the caller's text: its numbers are bounded before the query negates the
        // spend or encodes the date (either would trap on a forged one).
        guard PlausibleDates.contains(cursor.dueAt), cursor.spend >= 0 else { return nil }
        self = cursor
    }
}
