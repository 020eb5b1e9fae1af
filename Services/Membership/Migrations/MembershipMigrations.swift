import AftercareMessaging
import AftercarePersistence

/// The membership database: the platform's messaging and timer tables, then the service's own.
enum MembershipMigrations {
    static let all: [Migration] = PlatformSchema.migrations
}
