import AftercareRuntime
import Foundation
import Hummingbird

/// Wires the dispatch service. Tests call this too, with their own configuration.
func buildApplication(configuration: ServiceConfiguration) async -> some ApplicationProtocol {
    let platform = await ServicePlatform(configuration: configuration, migrations: DispatchMigrations.all)
    let router = platform.makeRouter()
    platform.serveOpenAPI(from: .module, on: router)
    return platform.makeApplication(router: router)
}

/// Where the service's own `openapi.json` is (tests read the document from here too).
enum DispatchOpenAPI {
    static var bundle: Bundle { .module }
}
