import Foundation
import Hummingbird

/// A service's OpenAPI document set against the routes its router registers: what each
/// service's OpenAPI test asserts, read once here.
public struct OpenAPIComparison {
    private struct Document: Decodable {
        let openapi: String
        let paths: [String: [String: Operation]]
    }

    private struct Operation: Decodable {
        let summary: String
        let responses: [String: Reference]
    }

    private struct Reference: Decodable {}

    /// The document's `openapi` version.
    public let version: String
    /// Registered routes the document does not describe, as "METHOD /path".
    public let missing: [String]
    /// Documented routes the service does not have.
    public let extra: [String]
    /// Documented operations without a summary or any response.
    public let silent: [String]
    public let registeredCount: Int

    public init<Context: RequestContext>(document: String, router: Router<Context>) throws {
        let registered = Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" })
        let decoded = try JSONDecoder().decode(Document.self, from: Data(document.utf8))
        var documented = Set<String>()
        var silent: [String] = []
        for (path, operations) in decoded.paths {
            for (method, operation) in operations {
                let route = "\(method.uppercased()) \(path)"
                documented.insert(route)
                if operation.summary.isEmpty || operation.responses.isEmpty { silent.append(route) }
            }
        }
        self.version = decoded.openapi
        self.missing = registered.subtracting(documented).sorted()
        self.extra = documented.subtracting(registered).sorted()
        self.silent = silent.sorted()
        self.registeredCount = registered.count
    }
}
