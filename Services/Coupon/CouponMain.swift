import AftercareRuntime

/// Coupon templates, issued coupons and their codes, desk redemptions, and reservations of
/// free service coupons for booked visits.
@main
struct CouponMain {
    static func main() async throws {
        let configuration = ServiceConfiguration.fromProcessEnvironment(service: .coupon)
        let settings = ServiceConfiguration.serviceSettings(service: .coupon, CouponSettings.read)
        let app = await buildApplication(configuration: configuration, settings: settings)
        try await app.runService(configuration: configuration)
    }
}
