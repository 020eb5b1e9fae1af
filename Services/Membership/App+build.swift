import AftercareContracts
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging

/// Loyalty settings from the environment: points per currency unit, and the yearly clearing
/// (date, grace period, time zone).
struct LoyaltySettings: Sendable {
    var pointsPerUnit = 1.0
    var calendar = PointsCalendar()

    static func read(_ reader: EnvironmentReader) throws -> LoyaltySettings {
        var settings = LoyaltySettings()
        settings.pointsPerUnit = try reader.double("MEMBERSHIP_POINTS_PER_UNIT", default: 1, range: 0.01...1000)
        let clearing = reader.string("MEMBERSHIP_POINTS_CLEARING_DATE", default: "12-31")
        let parts = clearing.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2, (1...12).contains(parts[0]), (1...28).contains(parts[1]) || (parts[1] <= 31 && parts[0] != 2) else {
            throw ConfigurationError(variable: "MEMBERSHIP_POINTS_CLEARING_DATE", problem: "must be MM-DD (e.g. 12-31)")
        }
        settings.calendar.clearingMonth = parts[0]
        settings.calendar.clearingDay = parts[1]
        settings.calendar.graceDays = try reader.int("MEMBERSHIP_POINTS_GRACE_DAYS", default: 90, range: 0...365)
        let zone = reader.string("MEMBERSHIP_TIME_ZONE", default: "Asia/Shanghai")
        guard let timeZone = TimeZone(checking: zone) else {
            throw ConfigurationError(variable: "MEMBERSHIP_TIME_ZONE", problem: "is not a known IANA time zone")
        }
        settings.calendar.timeZone = timeZone
        return settings
    }
}

/// Wires the membership service. Tests call this too, with their own configuration and a
/// business clock they move by hand.
func buildApplication(
    configuration: ServiceConfiguration,
    loyalty: LoyaltySettings = LoyaltySettings(),
    clock: any BusinessClock = SystemBusinessClock()
) async -> some ApplicationProtocol {
    let logger = Logger(label: configuration.service.name)
    let platform = await ServicePlatform(configuration: configuration, migrations: MembershipMigrations.all, clock: clock, logger: logger)
    let (router, rituals) = buildRouter(platform: platform, loyalty: loyalty)
    return platform.makeApplication(
        router: router,
        jobs: [DailyRituals.job: { job, connection in try await rituals.run(job, on: connection) }],
        backgroundServices: [RitualStarter(rituals: rituals)]
    )
}

/// Every route of the service (the OpenAPI test compares them with the document), and the
/// daily rituals the timers run.
func buildRouter(platform: ServicePlatform, loyalty: LoyaltySettings) -> (Router<AftercareRequestContext>, DailyRituals) {
    let dependencies = MembershipDependencies(
        database: platform.database,
        outbox: platform.outbox,
        clock: platform.clock,
        calendar: loyalty.calendar,
        pointsPerUnit: loyalty.pointsPerUnit,
        logger: platform.logger
    )
    let router = platform.makeRouter()
    platform.serveOpenAPI(from: .module, on: router)
    let api = platform.api(router)
    MemberController(book: MemberBook(dependencies: dependencies)).addRoutes(to: api)
    LoyaltyController(purchases: Purchases(dependencies: dependencies), tiers: TierBook(dependencies: dependencies)).addRoutes(to: api)
    OrganisationController(organisation: Organisation(dependencies: dependencies)).addRoutes(to: api)
    StoreStatisticsController(statistics: StoreStatistics(dependencies: dependencies)).addRoutes(to: api)
    return (router, DailyRituals(dependencies: dependencies))
}

/// Where the service's own `openapi.json` is (tests read the document from here too).
enum MembershipOpenAPI {
    static var bundle: Bundle { .module }
}
