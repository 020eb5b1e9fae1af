import AftercareRuntime
import Foundation
import Hummingbird

/// Wires the dispatch service. Tests call this too, with their own configuration.
func buildApplication(configuration: ServiceConfiguration) async -> some ApplicationProtocol {
    let platform = await ServicePlatform(configuration: configuration, migrations: DispatchMigrations.all)
    return platform.makeApplication(router: buildRouter(platform: platform))
}

/// Every route of the service (the OpenAPI test compares them with the document).
func buildRouter(platform: ServicePlatform) -> Router<AftercareRequestContext> {
    let router = platform.makeRouter()
    platform.serveOpenAPI(from: .module, on: router)
    let api = platform.api(router)
    CatalogController(catalog: Catalog(database: platform.database, clock: platform.clock, logger: platform.logger)).addRoutes(to: api)
    return router
}

/// Where the service's own `openapi.json` is (tests read the document from here too).
enum DispatchOpenAPI {
    static var bundle: Bundle { .module }
}
