import AftercareRuntime
import Foundation

/// A message text with `{{variable}}` placeholders, one body per locale (zh-CN and en).
struct MessageTemplate: Codable, Sendable, Equatable {
    static let locales = ["zh-CN", "en"]

    var key: String
    /// The event whose variables the bodies may use.
    var eventType: String
    var bodies: [String: String]
    var updatedAt: Date?

    /// The body for `locale`, falling back to zh-CN, then to any body.
    func body(for locale: String) -> String {
        bodies[locale] ?? bodies["zh-CN"] ?? bodies.values.sorted().first ?? ""
    }
}

/// `PUT /api/v1/templates/{key}`.
struct TemplateRequest: ValidatedRequest, Sendable {
    var eventType: String
    var bodies: [String: String]

    /// A template may use only what its event carries: each unknown variable is named, per
    /// locale, so the author sees exactly what to fix.
    func validate() -> [FieldProblem] {
        guard let allowed = EventCatalog.variables(of: eventType) else {
            return [FieldProblem(field: "eventType", message: "is not an event the notification service receives")]
        }
        var problems: [FieldProblem] = []
        if bodies.isEmpty { problems.append(FieldProblem(field: "bodies", message: "must have at least one locale")) }
        for (locale, body) in bodies.sorted(by: { $0.key < $1.key }) {
            let field = "bodies.\(locale)"
            guard MessageTemplate.locales.contains(locale) else {
                problems.append(FieldProblem(field: field, message: "locale must be one of \(MessageTemplate.locales.joined(separator: ", "))"))
                continue
            }
            if body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || body.count > 1000 {
                problems.append(FieldProblem(field: field, message: "must have 1 to 1000 characters"))
            }
            switch TemplateText.variables(in: body) {
            case .failure(let error):
                problems.append(FieldProblem(field: field, message: error.reason))
            case .success(let used):
                for name in used.sorted() where !allowed.contains(name) {
                    problems.append(FieldProblem(field: field, message: "uses {{\(name)}}, which \(eventType) does not carry"))
                }
            }
        }
        return problems
    }
}

/// The placeholder syntax: `{{name}}`, spaces inside the braces allowed.
enum TemplateText {
    struct SyntaxError: Error, Equatable { let reason: String }

    static func variables(in text: String) -> Result<Set<String>, SyntaxError> {
        var names = Set<String>()
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { return .failure(SyntaxError(reason: "has a {{ without a closing }}")) }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard isName(name) else { return .failure(SyntaxError(reason: "has an invalid placeholder {{\(name)}}")) }
            names.insert(name)
            rest = rest[close.upperBound...]
        }
        return .success(names)
    }

    /// Fills the placeholders; a variable the event left empty renders as nothing.
    static func render(_ text: String, with values: [String: String]) -> String {
        var output = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            output += rest[..<open.lowerBound]
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            output += values[name] ?? ""
            rest = rest[close.upperBound...]
        }
        return output + rest
    }

    private static func isName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter else { return false }
        return name.count <= 64 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}
