import Foundation

/// Codes the brand chooses (its ERP's ids for dealers, stores and staff, service type keys,
/// product categories): 1–64 letters, digits, `-` or `_`.
public func validateCode(_ value: String, field: String) -> [FieldProblem] {
    let allowed = value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    return (1...64).contains(value.count) && allowed ? [] : [FieldProblem(field: field, message: "must be 1 to 64 letters, digits, - or _")]
}

/// A name people read: 1–100 characters once surrounding spaces are set aside.
public func validateName(_ value: String, field: String) -> [FieldProblem] {
    let trimmed = value.trimmingCharacters(in: .whitespaces)
    return (1...100).contains(trimmed.count) ? [] : [FieldProblem(field: field, message: "must be 1 to 100 characters")]
}
