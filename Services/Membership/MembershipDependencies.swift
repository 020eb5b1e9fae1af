import AftercareMessaging
import AftercarePersistence
import Logging
import PostgresNIO

/// What the membership repositories and rituals share: the database, the outbox their
/// events go through, business time, and the loyalty settings.
struct MembershipDependencies: Sendable {
    let database: PostgresClient
    let outbox: Outbox
    let clock: any BusinessClock
    let calendar: PointsCalendar
    let pointsPerUnit: Double
    let logger: Logger

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await database.transaction(logger: logger, body)
    }
}
