import AftercarePersistence
import Foundation
import Logging
import PostgresNIO

/// What the controllers and the send timer work through: the database, business time and
/// the repositories.
struct NotificationDependencies: Sendable {
    let database: PostgresClient
    let clock: any BusinessClock
    let rules: RuleBook
    let log: DeliveryLog
    let preferences: Preferences
    let recipients: Recipients
    let courier: Courier
    let logger: Logger

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await database.transaction(logger: logger, body)
    }
}
