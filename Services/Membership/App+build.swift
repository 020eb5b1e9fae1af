import AftercareRuntime
import Hummingbird

/// Wires the membership service. Tests call this too, with their own configuration.
func buildApplication(configuration: ServiceConfiguration) async -> some ApplicationProtocol {
    let platform = await ServicePlatform(configuration: configuration, migrations: MembershipMigrations.all)
    let router = platform.makeRouter()
    return platform.makeApplication(router: router)
}
