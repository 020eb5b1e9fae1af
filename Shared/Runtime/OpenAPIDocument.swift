import Foundation

/// A service's OpenAPI document as it is served at `GET /openapi.json`: the service's own
/// file (`Services/<Name>/openapi.json`, a resource of its target) with the routes and
/// components every service shares (`Shared/Runtime/platform-openapi.json`) merged in. The
/// dead-letter routes (marked `x-aftercare-consumers-only`) are kept only for services that
/// consume events, as only those have them.
public struct OpenAPIDocument: Sendable {
    public let json: String

    public struct Unreadable: Error, CustomStringConvertible {
        public let description: String
    }

    static let consumersOnly = "x-aftercare-consumers-only"
    static let componentSections = ["schemas", "responses", "parameters", "requestBodies", "headers", "securitySchemes"]

    /// The document of the service whose resources are in `bundle`.
    public static func load(from bundle: Bundle, consumesEvents: Bool) throws -> OpenAPIDocument {
        guard let url = bundle.url(forResource: "openapi", withExtension: "json") else {
            throw Unreadable(description: "openapi.json is not among the service's resources (\(bundle.bundlePath))")
        }
        return try OpenAPIDocument(service: try Data(contentsOf: url), consumesEvents: consumesEvents)
    }

    public init(service: Data, consumesEvents: Bool) throws {
        guard let url = Bundle.module.url(forResource: "platform-openapi", withExtension: "json") else {
            throw Unreadable(description: "platform-openapi.json is not among the runtime's resources")
        }
        let platform = try Self.object(try Data(contentsOf: url), "platform-openapi.json")
        var document = try Self.object(service, "openapi.json")
        var paths = document["paths"] as? [String: Any] ?? [:]
        for (path, value) in platform["paths"] as? [String: Any] ?? [:] {
            guard var item = value as? [String: Any] else { continue }
            let onlyForConsumers = item.removeValue(forKey: Self.consumersOnly) as? Bool ?? false
            if onlyForConsumers && !consumesEvents { continue }
            paths[path] = item
        }
        document["paths"] = paths
        var components = document["components"] as? [String: Any] ?? [:]
        let shared = platform["components"] as? [String: Any] ?? [:]
        for section in Self.componentSections {
            let own = components[section] as? [String: Any] ?? [:]
            let theirs = shared[section] as? [String: Any] ?? [:]
            if own.isEmpty && theirs.isEmpty { continue }
            components[section] = theirs.merging(own) { _, service in service }
        }
        document["components"] = components
        let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        json = String(decoding: data, as: UTF8.self)
    }

    private static func object(_ data: Data, _ name: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Unreadable(description: "\(name) is not a JSON object")
        }
        return object
    }
}
