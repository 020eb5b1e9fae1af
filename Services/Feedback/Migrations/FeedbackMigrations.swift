import AftercareMessaging
import AftercarePersistence

/// The feedback database: the platform's messaging and timer tables, then the service's own.
enum FeedbackMigrations {
    static let all: [Migration] = PlatformSchema.migrations
}
