import AftercareRuntime
import Foundation
import ServiceLifecycle

/// Runs services until `condition` holds (or the timeout), then shuts them down gracefully.
/// Returns whether the condition held.
public func running(
    _ services: [any Service],
    until condition: @escaping @Sendable () async throws -> Bool,
    timeout: Duration = .seconds(30)
) async throws -> Bool {
    TestEnvironment.startStallReporter()
    let tracked = services.map { Tracked(name: "test:" + String(describing: type(of: $0)), service: $0) }
    let group = ServiceGroup(services: tracked, logger: TestEnvironment.logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let held = try await eventually(timeout: timeout) { try await condition() }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return held
    }
}

extension TestEnvironment {
    private static let stallReporter: Void = {
        // Diagnostics for the rare teardown stall: a full run takes about a minute, so
        // services still running after several minutes, unchanged, are the stuck ones. Only
        // prints when that happens.
        Task.detached {
            var previous: [String] = []
            var unchangedFor = 0
            while true {
                try? await Task.sleep(for: .seconds(30))
                let now = ServiceTracker.unfinished
                unchangedFor = (now == previous && !now.isEmpty) ? unchangedFor + 30 : 0
                previous = now
                if unchangedFor >= 120 {
                    FileHandle.standardError.write(Data("STALL: services still running after \(unchangedFor) s: \(now)\n".utf8))
                }
            }
        }
    }()

    /// Starts the stall reporter once per test process.
    public static func startStallReporter() { _ = stallReporter }
}
