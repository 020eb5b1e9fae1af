import AftercareTestSupport
import Foundation

/// The five executables as processes on fixed ports, against the test profile's PostgreSQL
/// and RabbitMQ, that a fault campaign kills and starts again.
actor Fleet {
    private var running: [String: ServiceProcess] = [:]
    private let ports: [String: Int]
    private let overrides: [String: [String: String]]
    /// The output of processes that were killed, kept for a failure's report.
    private(set) var logs: [String: String] = [:]

    init(overrides: [String: [String: String]]) throws {
        var ports: [String: Int] = [:]
        for (_, service) in ServiceProcess.all { ports[service] = try freePort() }
        self.ports = ports
        self.overrides = overrides
    }

    nonisolated func url(_ service: String) -> String { "http://127.0.0.1:\(ports[service] ?? 0)" }

    func startAll() async throws {
        for (_, service) in ServiceProcess.all { try launch(service) }
        for (_, service) in ServiceProcess.all { _ = try await ready(service) }
    }

    /// `kill -9`: no graceful shutdown, whatever was in flight is cut off.
    func kill(_ service: String) {
        guard let process = running[service] else { return }
        Foundation.kill(process.process.processIdentifier, SIGKILL)
        logs[service, default: ""] += process.log
        running[service] = nil
    }

    /// Starts the service again and answers how long it took to be ready.
    func restart(_ service: String) async throws -> Duration {
        let began = ContinuousClock.now
        try launch(service)
        _ = try await ready(service)
        return ContinuousClock.now - began
    }

    /// Waits until the service's readiness answers 200; how long that took.
    func ready(_ service: String, within limit: Duration = .seconds(120)) async throws -> Duration {
        let began = ContinuousClock.now
        while ContinuousClock.now - began < limit {
            if await running[service]?.get("/health/ready")?.status == 200 { return ContinuousClock.now - began }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CampaignFailure("\(service) was not ready within \(limit):\n\(running[service]?.log.suffix(3000) ?? "")")
    }

    func stopAll() async {
        for (service, process) in running {
            _ = await process.terminate()
            logs[service, default: ""] += process.log
        }
        running = [:]
    }

    private func launch(_ service: String) throws {
        guard let executable = ServiceProcess.all.first(where: { $0.1 == service })?.0, let port = ports[service] else {
            throw CampaignFailure("unknown service \(service)")
        }
        let process = try ServiceProcess(executable: executable, service: service, port: port, overrides: overrides[service] ?? [:])
        try process.start()
        running[service] = process
    }
}

struct CampaignFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
