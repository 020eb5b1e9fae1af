import ServiceLifecycle

/// Runs services until `condition` holds (or the timeout), then shuts them down gracefully.
/// Returns whether the condition held.
public func running(
    _ services: [any Service], until condition: @escaping @Sendable () async throws -> Bool, timeout: Duration = .seconds(30)
) async throws -> Bool {
    let group = ServiceGroup(services: services, logger: TestEnvironment.logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let held = try await eventually(timeout: timeout) { try await condition() }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return held
    }
}
