import AftercarePersistence
import Foundation
import ServiceLifecycle

/// Makes sure today's ritual timer exists when the service starts (each day's run schedules
/// the next, so this only matters on a fresh database or after a long outage), then idles
/// until shutdown.
struct RitualStarter: Service {
    let rituals: DailyRituals

    func run() async throws {
        try await rituals.dependencies.transaction { connection in
            try await rituals.schedule(dayOf: rituals.dependencies.clock.now(), on: connection)
        }
        try? await gracefulShutdown()
    }
}
