import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging

/// Wires the dispatch service. Tests call this too, with their own configuration and a
/// business clock they move by hand.
func buildApplication(
    configuration: ServiceConfiguration,
    settings: DispatchSettings = DispatchSettings(),
    clock: any BusinessClock = SystemBusinessClock()
) async -> some ApplicationProtocol {
    let logger = Logger(label: configuration.service.name)
    // The event handlers exist before the platform (which owns the database): they act only
    // on the connection each delivery brings.
    let parts = DispatchParts(outbox: Outbox(producer: configuration.service.name, logger: logger), settings: settings, clock: clock, logger: logger)
    let platform = await ServicePlatform(
        configuration: configuration,
        migrations: DispatchMigrations.all,
        subscriptions: DispatchSubscriptions.make(directory: parts.directory, dispatcher: parts.dispatcher, bookings: parts.bookings),
        clock: clock,
        logger: logger
    )
    return platform.makeApplication(
        router: buildRouter(platform: platform, settings: settings),
        jobs: [
            CrewDispatcher.lapseJob: parts.dispatcher.lapse,
            CrewDispatcher.crewCheckJob: parts.dispatcher.checkCrew,
            Bookings.couponWaitJob: parts.bookings.expireCouponWait,
        ]
    )
}

/// The workflows that act on a connection they are given: shared by the routes, the event
/// handlers and the timers.
struct DispatchParts: Sendable {
    let directory: Directory
    let orders: Orders
    let dispatcher: CrewDispatcher
    let bookings: Bookings

    init(outbox: Outbox, settings: DispatchSettings, clock: any BusinessClock, logger: Logger) {
        directory = Directory(settings: settings, logger: logger)
        orders = Orders(outbox: outbox, logger: logger)
        dispatcher = CrewDispatcher(orders: orders, settings: settings, clock: clock, logger: logger)
        bookings = Bookings(outbox: outbox, dispatcher: dispatcher)
    }
}

/// Every route of the service (the OpenAPI test compares them with the document).
func buildRouter(platform: ServicePlatform, settings: DispatchSettings = DispatchSettings()) -> Router<AftercareRequestContext> {
    let parts = DispatchParts(outbox: platform.outbox, settings: settings, clock: platform.clock, logger: platform.logger)
    let catalog = Catalog(database: platform.database, clock: platform.clock, logger: platform.logger)
    let bookings = BookingDesk(database: platform.database, catalog: catalog, bookings: parts.bookings)
    let router = platform.makeRouter()
    platform.serveOpenAPI(from: .module, on: router)
    let api = platform.api(router)
    CatalogController(catalog: catalog).addRoutes(to: api)
    TechnicianController(
        technicians: Technicians(database: platform.database, outbox: platform.outbox, clock: platform.clock, logger: platform.logger)
    )
    .addRoutes(to: api)
    BookingController(desk: bookings).addRoutes(to: api)
    OrderController(
        board: OrderBoard(database: platform.database, orders: parts.orders, logger: platform.logger),
        dispatcher: parts.dispatcher,
        visits: VisitDesk(database: platform.database, orders: parts.orders, clock: platform.clock, logger: platform.logger)
    )
    .addRoutes(to: api)
    SlotWindowController(windows: StoreWindows(database: platform.database, settings: settings, logger: platform.logger)).addRoutes(to: api)
    ServiceDueController(due: ServiceDue(database: platform.database, clock: platform.clock, logger: platform.logger)).addRoutes(to: api)
    return router
}

/// Where the service's own `openapi.json` is (tests read the document from here too).
enum DispatchOpenAPI {
    static var bundle: Bundle { .module }
}
