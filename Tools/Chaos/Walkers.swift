import AftercareJourney
import AftercareRuntime
import AsyncHTTPClient
import Foundation

/// Journeys walked side by side until a moment: each walker starts its next journey when its
/// last one ended, completed or cut off by a fault (a killed service refuses the call); what
/// the faults did to the system is for the checker to say, not the walkers.
struct Walkers {
    let count: Int
    let addresses: SuiteAddresses
    let tokens: TokenAuthority

    struct Tally: Sendable {
        var completed = 0
        var interrupted: [String] = []

        var summary: String {
            var text = "journeys: \(completed) completed, \(interrupted.count) cut off by a fault\n"
            for reason in interrupted.prefix(10) { text += "  cut off: \(reason.prefix(160))\n" }
            return text
        }
    }

    func walk(until end: ContinuousClock.Instant) async -> Tally {
        await withTaskGroup(of: Tally.self) { group in
            for _ in 0..<count { group.addTask { await walkOne(until: end) } }
            var total = Tally()
            for await tally in group {
                total.completed += tally.completed
                total.interrupted += tally.interrupted
            }
            return total
        }
    }

    private func walkOne(until end: ContinuousClock.Instant) async -> Tally {
        var tally = Tally()
        while ContinuousClock.now < end {
            let run = String(UUID().uuidString.lowercased().prefix(8))
            let journey = Journey(at: addresses, client: JourneyClient(http: HTTPClient.shared), tokens: tokens, run: run) { _ in }
            do {
                _ = try await journey.walk()
                tally.completed += 1
            } catch {
                tally.interrupted.append("\(run): \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
        return tally
    }
}
