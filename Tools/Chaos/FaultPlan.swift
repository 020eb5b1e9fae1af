import AftercareTestSupport
import Foundation

/// The faults of a campaign, spread evenly over its time: each service killed with SIGKILL and
/// started again two seconds later, the network between one service and the broker cut, the SMS
/// gateway failing and then slow, then a RabbitMQ restart and a PostgreSQL restart (through
/// the project's broker-ctl and database-ctl); each with the time from the fault until every
/// service was ready again.
struct FaultPlan {
    let fleet: Fleet
    /// The SMS gateway notification sends through, which the campaign makes fail, then slow.
    let gateway: FakeGateway
    /// The service whose broker connection runs through `proxy`, which the campaign cuts.
    let cutOff: (service: String, proxy: BlackholeProxy)
    /// How long the network between that service and the broker stays cut.
    var cutFor: Duration = .seconds(20)

    struct Injected: Sendable {
        let at: Duration
        let fault: String
        let recovery: Duration
    }

    struct Faults: Sendable {
        let injected: [Injected]

        var table: String {
            var text = "at        fault                                 all ready again after\n"
            for fault in injected {
                text += Self.seconds(fault.at).padding(toLength: 10, withPad: " ", startingAt: 0)
                text += fault.fault.padding(toLength: 38, withPad: " ", startingAt: 0) + Self.seconds(fault.recovery) + "\n"
            }
            return text
        }

        static func seconds(_ duration: Duration) -> String {
            String(format: "%.1f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
        }
    }

    func inject(over span: Duration) async throws -> Faults {
        let began = ContinuousClock.now
        let faults: [(String, () async throws -> Duration)] =
            ServiceProcess.all.map { _, service in
                (
                    "kill -9 \(service)",
                    { try await killAndRestart(service) }
                )
            } + [
                ("cut \(cutOff.service) ↔ RabbitMQ for \(cutFor.components.seconds) s", { try await cutNetwork() }),
                ("SMS gateway answers 503 for 15 s", { try await degradeGateway(status: 503, delay: nil) }),
                ("SMS gateway answers after 8 s, 15 s", { try await degradeGateway(status: nil, delay: .seconds(8)) }),
                ("RabbitMQ restart", { try await restart("AFTERCARE_TEST_BROKER_CTL") }),
                ("PostgreSQL restart", { try await restart("AFTERCARE_TEST_DATABASE_CTL") }),
            ]
        let gap = span / (faults.count + 1)
        var injected: [Injected] = []
        for (index, (name, fault)) in faults.enumerated() {
            let due = began + gap * (index + 1)
            if due > .now { try await Task.sleep(until: due) }
            let at = ContinuousClock.now - began
            print("[+\(Faults.seconds(at))] \(name)")
            injected.append(Injected(at: at, fault: name, recovery: try await fault()))
        }
        return Faults(injected: injected)
    }

    private func killAndRestart(_ service: String) async throws -> Duration {
        let began = ContinuousClock.now
        await fleet.kill(service)
        try await Task.sleep(for: .seconds(2))
        _ = try await fleet.restart(service)
        return ContinuousClock.now - began
    }

    /// Drops every byte between the service and the broker, without closing anything (what a
    /// failed switch does), then lets them through again: the service notices by its
    /// heartbeats and reconnects. The time from the cut until it is ready again.
    private func cutNetwork() async throws -> Duration {
        let began = ContinuousClock.now
        cutOff.proxy.cutNetwork()
        try await Task.sleep(for: cutFor)
        cutOff.proxy.restoreNetwork()
        _ = try await fleet.ready(cutOff.service)
        return ContinuousClock.now - began
    }

    /// The gateway fails (or answers later than notification waits) for 15 s; notification
    /// retries with the same idempotency key. Nothing restarts, so the time is the fault's.
    private func degradeGateway(status: Int?, delay: Duration?) async throws -> Duration {
        let began = ContinuousClock.now
        gateway.degrade(status: status, delay: delay)
        try await Task.sleep(for: .seconds(15))
        gateway.restore()
        return ContinuousClock.now - began
    }

    /// Restarts the broker or the database with the project's control script, then waits for
    /// every service to be ready again; the time from the restart's start.
    private func restart(_ script: String) async throws -> Duration {
        let began = ContinuousClock.now
        let control = Process()
        control.executableURL = URL(fileURLWithPath: try TestEnvironment.variable(script))
        control.arguments = ["restart"]
        control.standardOutput = FileHandle.nullDevice
        try control.run()
        guard await control.exitStatus(within: .seconds(180)) == 0 else { throw CampaignFailure("\(script) restart failed") }
        for (_, service) in ServiceProcess.all { _ = try await fleet.ready(service) }
        return ContinuousClock.now - began
    }
}
