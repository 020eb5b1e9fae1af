import AftercareRuntime
import Hummingbird

/// Wires the coupon service. Tests call this too, with their own configuration.
func buildApplication(configuration: ServiceConfiguration) async -> some ApplicationProtocol {
    let platform = await ServicePlatform(configuration: configuration, migrations: CouponMigrations.all)
    let router = platform.makeRouter()
    return platform.makeApplication(router: router)
}
