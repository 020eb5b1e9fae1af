import AftercareJourney
import AftercareRuntime
import AsyncHTTPClient
import Foundation
import Synchronization

/// Journeys and complaints side by side until a moment: each walker starts its next journey
/// when its last one ended, completed or cut off by a fault (a killed service refuses the
/// call); each complainer files complaints for a fresh store's member, a few at a time. What
/// the faults did to the system is for the checker to say, not the walkers.
struct Walkers {
    let count: Int
    let complainers: Int
    let addresses: SuiteAddresses
    let tokens: TokenAuthority
    /// Complaints a complainer files for one member before it starts over with a new store.
    var complaintsPerMember = 6

    struct Tally: Sendable {
        var completed = 0
        var interrupted: [String] = []
        /// The `Idempotency-Key` of every complaint the desk accepted.
        var complaintKeys: [String] = []

        var summary: String {
            var text = "journeys: \(completed) completed, \(interrupted.count) cut off by a fault\n"
            text += "complaints filed: \(complaintKeys.count)\n"
            for reason in interrupted.prefix(10) { text += "  cut off: \(reason.prefix(160))\n" }
            return text
        }

        static func + (left: Tally, right: Tally) -> Tally {
            Tally(
                completed: left.completed + right.completed,
                interrupted: left.interrupted + right.interrupted,
                complaintKeys: left.complaintKeys + right.complaintKeys
            )
        }
    }

    func walk(until end: ContinuousClock.Instant) async -> Tally {
        await withTaskGroup(of: Tally.self) { group in
            for _ in 0..<count { group.addTask { await walkOne(until: end) } }
            for _ in 0..<complainers { group.addTask { await complain(until: end) } }
            var total = Tally()
            for await tally in group { total = total + tally }
            return total
        }
    }

    private func walkOne(until end: ContinuousClock.Instant) async -> Tally {
        var tally = Tally()
        while ContinuousClock.now < end {
            let journey = newJourney()
            do {
                _ = try await journey.walk()
                tally.completed += 1
            } catch {
                tally.interrupted.append("\(journey.cast.run): \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
        return tally
    }

    private func complain(until end: ContinuousClock.Instant) async -> Tally {
        let keys = Mutex<[String]>([])
        var tally = Tally()
        while ContinuousClock.now < end {
            let journey = newJourney()
            do {
                try await journey.fileComplaints(complaintsPerMember) { key in keys.withLock { $0.append(key) } }
            } catch {
                tally.interrupted.append("\(journey.cast.run) complaints: \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
        tally.complaintKeys = keys.withLock { $0 }
        return tally
    }

    private func newJourney() -> Journey {
        let run = String(UUID().uuidString.lowercased().prefix(8))
        return Journey(at: addresses, client: JourneyClient(http: HTTPClient.shared), tokens: tokens, run: run) { _ in }
    }
}
