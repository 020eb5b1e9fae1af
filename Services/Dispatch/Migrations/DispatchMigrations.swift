import AftercareMessaging
import AftercarePersistence

/// The dispatch database: the platform's messaging and timer tables, then the service's own.
enum DispatchMigrations {
    static let all: [Migration] = PlatformSchema.migrations
}
