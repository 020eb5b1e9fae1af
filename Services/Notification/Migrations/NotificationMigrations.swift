import AftercareMessaging
import AftercarePersistence

/// The notification database: the platform's messaging and timer tables, then the service's own.
enum NotificationMigrations {
    static let all: [Migration] = PlatformSchema.migrations
}
