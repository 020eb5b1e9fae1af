import AftercareMessaging
import AftercarePersistence

/// The coupon database: the platform's messaging and timer tables, then the service's own.
enum CouponMigrations {
    static let all: [Migration] = PlatformSchema.migrations
}
