import AftercareRuntime
import Hummingbird

/// Wires the dispatch service. Tests call this too, with their own configuration.
func buildApplication(configuration: ServiceConfiguration) async -> some ApplicationProtocol {
    let platform = await ServicePlatform(configuration: configuration, migrations: DispatchMigrations.all)
    let router = platform.makeRouter()
    return platform.makeApplication(router: router)
}
