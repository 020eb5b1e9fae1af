import AftercareRuntime

/// Coupon templates, issued coupons, claims and redemptions.
@main
struct CouponMain {
    static func main() async throws {
        let configuration = ServiceConfiguration.fromProcessEnvironment(service: .coupon)
        let app = await buildApplication(configuration: configuration)
        try await app.runService(configuration: configuration)
    }
}
