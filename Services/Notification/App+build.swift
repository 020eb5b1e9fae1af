import AftercareRuntime
import Hummingbird

/// Wires the notification service. Tests call this too, with their own configuration.
func buildApplication(configuration: ServiceConfiguration) async -> some ApplicationProtocol {
    let platform = await ServicePlatform(configuration: configuration, migrations: NotificationMigrations.all)
    let router = platform.makeRouter()
    return platform.makeApplication(router: router)
}
