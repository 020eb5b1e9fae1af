import HummingbirdTesting

extension TestingSetup {
    /// A live server reached through a pool of connections. Racing tests use it: the `.live`
    /// test client pipelines every request on one connection, and the server answers a
    /// connection's requests one after another, so nothing sent through it ever races.
    public static var racing: TestingSetup { .ahc(.http) }
}

/// Runs `count` copies of `body` at once and answers their results.
public func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
    try await withThrowingTaskGroup(of: T.self) { group in
        for index in 0..<count { group.addTask { try await body(index) } }
        var results: [T] = []
        for try await result in group { results.append(result) }
        return results
    }
}
