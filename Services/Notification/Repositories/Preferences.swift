import AftercareRuntime
import Foundation
import Logging
import PostgresNIO

/// What a member chose about their messages. Consent itself is membership's; these are the
/// member's choices here, on top of it.
struct MemberPreferences: Codable, Sendable, Equatable {
    var marketingOptOut: Bool
    var serviceOptOut: Bool
    /// `HH:mm-HH:mm` on the member's wall clock; absent means the service default.
    var quietHours: String?
    var locale: String?
}

extension MemberPreferences: ValidatedRequest {
    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if let quietHours, QuietHours(quietHours) == nil {
            problems.append(FieldProblem(field: "quietHours", message: "must be HH:mm-HH:mm, e.g. 21:00-09:00"))
        }
        if let locale, !MessageTemplate.locales.contains(locale) {
            problems.append(FieldProblem(field: "locale", message: "must be one of \(MessageTemplate.locales.joined(separator: ", "))"))
        }
        return problems
    }
}

struct Preferences: Sendable {
    let logger: Logger

    func read(_ memberId: String, on connection: PostgresConnection) async throws -> MemberPreferences {
        let rows = try await connection.query(
            "SELECT marketing_opt_out, service_opt_out, quiet_start, quiet_end, locale FROM preferences WHERE member_id = \(memberId)",
            logger: logger
        )
        for try await (marketing, service, start, end, locale) in rows.decode((Bool, Bool, Int?, Int?, String?).self) {
            let quiet = start.flatMap { start in end.map { QuietHours(start: start, end: $0).description } }
            return MemberPreferences(marketingOptOut: marketing, serviceOptOut: service, quietHours: quiet, locale: locale)
        }
        return MemberPreferences(marketingOptOut: false, serviceOptOut: false, quietHours: nil, locale: nil)
    }

    func write(_ memberId: String, _ preferences: MemberPreferences, at now: Date, on connection: PostgresConnection) async throws {
        let quiet = preferences.quietHours.flatMap(QuietHours.init)
        try await connection.query(
            """
            INSERT INTO preferences (member_id, marketing_opt_out, service_opt_out, quiet_start, quiet_end, locale, updated_at)
            VALUES (\(memberId), \(preferences.marketingOptOut), \(preferences.serviceOptOut), \(quiet?.start), \(quiet?.end), \(preferences.locale), \(now))
            ON CONFLICT (member_id) DO UPDATE SET marketing_opt_out = EXCLUDED.marketing_opt_out, service_opt_out = EXCLUDED.service_opt_out,
                quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end, locale = EXCLUDED.locale, updated_at = EXCLUDED.updated_at
            """,
            logger: logger
        )
    }
}
