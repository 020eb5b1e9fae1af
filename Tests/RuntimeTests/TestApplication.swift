import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird

/// A request body with the usual kinds of mistakes to make.
struct Registration: ValidatedRequest {
    struct Item: Decodable { let amount: Int }
    let phone: String
    let name: String
    let items: [Item]

    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if phone.count != 11 || !phone.allSatisfy(\.isNumber) { problems.append(.init(field: "phone", message: "must be 11 digits")) }
        if name.isEmpty { problems.append(.init(field: "name", message: "must not be empty")) }
        return problems
    }
}

/// A body with every kind of value the API takes, echoed back as decoded.
struct Inputs: ValidatedRequest, ResponseCodable {
    static let multilineKeys: Set<String> = ["note"]
    let name: String
    let note: String?
    let count: Int
    let amount: Int64
    let ratio: Double?
    let at: Date?
    let tags: [String]?

    func validate() -> [FieldProblem] { [] }
}

struct LeakyError: Error, CustomStringConvertible {
    var description: String { "SELECT password FROM staff WHERE id = 1" }
}

/// The shared runtime with a few routes that exercise each error class, on a real database
/// and broker. Services build exactly this way, with their own routes.
func makeRuntimeTestApplication(databaseURL: String, extra: [String: String] = [:]) async throws -> (some ApplicationProtocol, ServicePlatform) {
    let configuration = try TestEnvironment.configuration(databaseURL: databaseURL, extra: ["HTTP_MAX_BODY_BYTES": "2048"].merging(extra) { $1 })
    let platform = await ServicePlatform(configuration: configuration, migrations: [], logger: TestEnvironment.logger)
    let router = platform.makeRouter()
    let api = platform.api(router)
    api.group("registrations")
        .add(middleware: RoleGate(.guide, .storeManager))
        .post { request, context -> HTTPResponse.Status in
            _ = try await request.decodeJSON(as: Registration.self, context: context)
            return .created
        }
    api.group("inputs").add(middleware: RoleGate(.guide)).post { request, context -> Inputs in
        try await request.decodeJSON(as: Inputs.self, context: context)
    }
    api.group("inputs").add(middleware: RoleGate(.guide)).get("{day}") { request, context -> String in
        let limit = try request.integerQuery("limit", in: 1...200) ?? 50
        let member = try request.idQuery("memberId")
        guard let day = context.parameters.get("day").flatMap(ISO8601.day) else {
            throw ProblemDetails.validation(field: "day", "must be YYYY-MM-DD")
        }
        return "\(day.year)-\(day.month)-\(day.day) \(limit) \(member.map { "\($0)" } ?? "-")"
    }
    api.group("conflicts").add(middleware: RoleGate(.hqAdmin)).get { _, _ -> String in
        throw ProblemDetails.conflict("This phone number already belongs to another member.")
    }
    api.group("crash").add(middleware: RoleGate(.hqAdmin)).get { _, _ -> String in throw LeakyError() }
    api.group("whoami").add(middleware: RoleGate(.guide, .hqAdmin)).get { _, context -> String in
        let principal = try context.requirePrincipal()
        return "\(principal.role.rawValue) \(principal.subject) \(principal.dealerID ?? "-") \(principal.storeID ?? "-")"
    }
    return (platform.makeApplication(router: router), platform)
}
