import AftercareRuntime
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore

/// One of the five service executables started as a real process against the test
/// PostgreSQL and RabbitMQ (`scripts/run-tests` writes their credentials to the file named
/// by AFTERCARE_TEST_SERVICES_ENV and the build folder to AFTERCARE_BIN_DIR).
public final class ServiceProcess: @unchecked Sendable {
    public let executable: String
    public let port: Int
    public let process = Process()
    /// The environment it runs with (its database URL, broker URL, …).
    public let environment: [String: String]
    private let output = Pipe()
    private let collected = LockedData()

    /// `service` is the lower-case prefix in the services env file (membership, dispatch, …).
    public init(executable: String, service: String, port: Int, overrides: [String: String] = [:]) throws {
        self.executable = executable
        self.port = port
        let values = try Self.servicesEnvironment()
        let prefix = service.uppercased()
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": String(port),
            "DATABASE_URL": values["\(prefix)_DATABASE_URL"] ?? "",
            "AMQP_URL": values["\(prefix)_AMQP_URL"] ?? "",
            "JWT_SECRET": values["JWT_SECRET"] ?? "",
            "LOG_FORMAT": "json",
        ]
        environment.merge(overrides) { $1 }
        self.environment = environment
        process.executableURL = URL(fileURLWithPath: try TestEnvironment.variable("AFTERCARE_BIN_DIR")).appendingPathComponent(executable)
        process.environment = environment.filter { !$0.value.isEmpty }
        process.standardOutput = output
        process.standardError = output
        output.fileHandleForReading.readabilityHandler = { [collected] handle in collected.append(handle.availableData) }
    }

    /// The five executables, with the service name each has in the services env file.
    public static let all = [
        ("MembershipService", "membership"), ("DispatchService", "dispatch"), ("CouponService", "coupon"),
        ("NotificationService", "notification"), ("FeedbackService", "feedback"),
    ]

    /// Each service's database URL, by service name, from the services env file.
    public static func databaseURLs() throws -> [String: String] {
        let values = try servicesEnvironment()
        return Dictionary(uniqueKeysWithValues: all.map { ($0.1, values["\($0.1.uppercased())_DATABASE_URL"] ?? "") })
    }

    /// The services' own credentials (database and broker URLs, the JWT secret), as
    /// `scripts/run-tests` wrote them for the test profile.
    public static func servicesEnvironment() throws -> [String: String] {
        let file = try String(contentsOfFile: try TestEnvironment.variable("AFTERCARE_TEST_SERVICES_ENV"), encoding: .utf8)
        var values: [String: String] = [:]
        for line in file.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: equals)...])
            if value.hasPrefix("'") && value.hasSuffix("'") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            values[String(line[..<equals]).replacingOccurrences(of: "export ", with: "")] = value
        }
        return values
    }

    public func start() throws { try process.run() }

    public var log: String { collected.string }

    /// Sends SIGTERM and waits up to `timeout` for the exit; returns the status, nil if it hung.
    public func terminate(timeout: Duration = .seconds(20)) async -> Int32? {
        process.terminate()
        return await waitForExit(timeout: timeout)
    }

    public func waitForExit(timeout: Duration) async -> Int32? {
        await process.exitStatus(within: timeout)
    }

    /// GET a path on the service; nil while it does not accept connections.
    public func get(_ path: String) async -> (status: Int, body: String)? {
        try? await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(5))) { client in
            let response = try await client.get(path)
            return (response.status.code, response.body.map { String(buffer: $0) } ?? "")
        }
    }

    /// Any request with a bearer token and a JSON body; nil while it does not accept connections.
    public func request(
        _ method: HTTPRequest.Method,
        _ path: String,
        token: String? = nil,
        body: String? = nil,
        headers extra: HTTPFields = [:]
    ) async -> (status: Int, body: String)? {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        for field in extra { headers[field.name] = field.value }
        let request = TestClient.Request(path, method: method, authority: "127.0.0.1", headers: headers, body: body.map { ByteBuffer(string: $0) })
        return try? await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(15))) { client in
            let response = try await client.execute(request)
            return (response.status.code, response.body.map { String(buffer: $0) } ?? "")
        }
    }

    /// Signs a token with the services' own secret, as the brand's sign-in would.
    public static func token(subject: String, role: Role, dealerID: String? = nil, storeID: String? = nil) async throws -> String {
        try await tokenAuthority().sign(subject: subject, role: role, dealerID: dealerID, storeID: storeID)
    }

    /// Signs with the services' own secret (for a caller that mints many tokens).
    public static func tokenAuthority() async throws -> TokenAuthority {
        let secret = try servicesEnvironment()["JWT_SECRET"] ?? ""
        return await TokenAuthority(settings: try JWTSettings(secret: secret, issuer: "aftercare", audience: "aftercare"))
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

extension Process {
    /// Waits up to `timeout` for the exit without blocking a thread; returns the status, or
    /// nil after killing a process that hung. Not `waitUntilExit()`: it holds one of the two
    /// concurrency threads for as long as the process runs, and has no time limit. (Foundation
    /// counts a process as running while anything it started still holds a descriptor it
    /// inherited, so a script that leaves a daemon behind must close them: `detach` does.)
    public func exitStatus(within timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if isRunning {
            kill(processIdentifier, SIGKILL)
            return nil
        }
        return terminationStatus
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ more: Data) { lock.withLock { data.append(more) } }
    var string: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}

/// A TCP port nobody listens on right now, from the kernel.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestEnvironment.Missing(variable: "a free TCP port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
