/// One step of a service's schema. A migration is never edited once released: the runner
/// records a checksum of its SQL and refuses to start when an applied one has changed.
public struct Migration: Sendable {
    public let id: String
    public let statements: [String]

    public init(_ id: String, _ statements: String...) {
        self.id = id
        self.statements = statements
    }

    public init(_ id: String, statements: [String]) {
        self.id = id
        self.statements = statements
    }

    /// FNV-1a over the statements: stable across runs and platforms, unlike `hashValue`.
    public var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in statements.joined(separator: "\n;\n").utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
