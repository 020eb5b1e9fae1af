import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// The callback SLA per store (or dealer) and period: complaints opened, how many were called
/// back and how many within the promise, the median time to the first successful callback,
/// and escalations per level. Store managers see their store, dealer admins their dealer, HQ
/// everything.
struct CallbackSLA: Sendable {
    let database: PostgresClient
    let logger: Logger

    enum Grouping: String, Sendable {
        case store, dealer
    }

    struct Row: Codable, Sendable, Equatable {
        let group: String
        let complaints: Int
        let calledBack: Int
        let calledBackWithinPromise: Int
        let shareWithinPromise: Double?
        let medianSecondsToCallback: Double?
        let escalations: [String: Int]
    }

    struct Report: ResponseCodable, Sendable {
        let from: Date
        let to: Date
        let groupBy: String
        let rows: [Row]
    }

    func report(from: Date, to: Date, groupBy: Grouping, for caller: Principal) async throws -> Report {
        let column = groupBy == .dealer ? "c.dealer_id" : "c.store_id"
        // Scope: the caller's store or dealer only; HQ unrestricted. Values are bound.
        let scope: (column: String, value: String?) =
            switch caller.role {
            case .storeManager: ("c.store_id", caller.storeID ?? "")
            case .dealerAdmin: ("c.dealer_id", caller.dealerID ?? "")
            default: ("c.store_id", nil)
            }
        var bindings = PostgresBindings()
        bindings.append(from)
        bindings.append(to)
        bindings.append(scope.value)
        let sql = """
            SELECT \(column) AS grp,
                   count(DISTINCT c.id)::bigint,
                   (count(t.completed_at))::bigint,
                   (count(*) FILTER (WHERE t.met_promise))::bigint,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM t.completed_at - c.opened_at))::float8,
                   coalesce((SELECT jsonb_object_agg(level, n)::text FROM (
                       SELECT e.from_level AS level, count(*) AS n FROM callback_escalations e
                       JOIN callback_tasks t2 ON t2.id = e.task_id JOIN complaints c2 ON c2.id = t2.complaint_id
                       WHERE c2.opened_at >= $1 AND c2.opened_at < $2 AND \(column.replacingOccurrences(of: "c.", with: "c2.")) = \(column)
                       GROUP BY e.from_level) per_level), '{}')
            FROM complaints c LEFT JOIN callback_tasks t ON t.complaint_id = c.id
            WHERE c.opened_at >= $1 AND c.opened_at < $2 AND ($3::text IS NULL OR \(scope.column) = $3)
            GROUP BY \(column) ORDER BY \(column)
            """
        var rows: [Row] = []
        for row in try await database.rows(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger) {
            let (group, complaints, calledBack, inTime, median, escalations) = try row.decode((String, Int, Int, Int, Double?, String).self)
            let perLevel = (try? JSONDecoder().decode([String: Int].self, from: Data(escalations.utf8))) ?? [:]
            rows.append(
                Row(
                    group: group,
                    complaints: complaints,
                    calledBack: calledBack,
                    calledBackWithinPromise: inTime,
                    shareWithinPromise: complaints > 0 ? Double(inTime) / Double(complaints) : nil,
                    medianSecondsToCallback: median,
                    escalations: perLevel
                )
            )
        }
        return Report(from: from, to: to, groupBy: groupBy.rawValue, rows: rows)
    }
}
