import AftercareTestSupport
import Foundation
import Synchronization
import Testing

extension Outages {
    /// The fault campaign (`scripts/run-chaos`), short: its own checker decides.
    @Suite("A short fault campaign", .timeLimit(.minutes(6)))
    struct FaultCampaignTests {
        @Test("journeys and complaints through kills of every service, dispatch cut off, broker and database restarts: nothing lost or duplicated")
        func shortCampaign() async throws {
            let campaign = Process()
            campaign.executableURL = URL(fileURLWithPath: try TestEnvironment.variable("AFTERCARE_BIN_DIR")).appendingPathComponent("aftercare-chaos")
            campaign.arguments = ["--seconds", "90", "--walkers", "2", "--complainers", "1", "--settle", "90"]
            let output = Pipe()
            let collected = Mutex(Data())
            campaign.standardOutput = output
            campaign.standardError = output
            output.fileHandleForReading.readabilityHandler = { handle in
                let more = handle.availableData
                collected.withLock { $0.append(more) }
            }
            try campaign.run()
            let status = await campaign.exitStatus(within: .seconds(320))
            output.fileHandleForReading.readabilityHandler = nil
            let log = collected.withLock { String(decoding: $0, as: UTF8.self) }
            let report = log.split(separator: "\n").filter { !$0.hasPrefix("{") }.joined(separator: "\n")
            // The campaign's tables, for the test run's log.
            print(report.suffix(12000))
            #expect(status == 0, "\(report.suffix(8000))")
            #expect(report.contains("lost 0, duplicated 0: pass"), "\(report.suffix(8000))")
            // The checker saw the walks: at least one completed order asked for its review.
            // The checker saw the walks and the complaints: at least one completed order asked for
            // its review, at least one complaint filed by its key.
            for effect in ["review request per completed order", "complaint per Idempotency-Key"] {
                let line = report.split(separator: "\n").first { $0.hasPrefix(effect) }
                #expect((line?.split(separator: " ").compactMap { Int($0) }.first ?? 0) >= 1, "\(effect): \(report.suffix(4000))")
            }
        }
    }
}
