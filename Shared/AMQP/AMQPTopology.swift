/// The exchanges, queues and bindings a publisher or consumer declares on every (re)connect.
/// Declarations are idempotent, so a restored connection simply declares them again.
public struct AMQPTopology: Sendable {
    public struct Exchange: Sendable {
        public var name: String
        public var type: String
        /// Only check that it exists: declaring it would need permission to configure (and
        /// so to delete) an exchange that others share.
        public var passive: Bool
        public init(name: String, type: String, passive: Bool = false) {
            self.name = name
            self.type = type
            self.passive = passive
        }
    }

    public struct Queue: Sendable {
        public var name: String
        public var arguments: [String: AMQPFieldValue]
        public init(name: String, arguments: [String: AMQPFieldValue] = [:]) {
            self.name = name
            self.arguments = arguments
        }
    }

    public struct Binding: Sendable {
        public var queue: String
        public var exchange: String
        public var routingKey: String
        public init(queue: String, exchange: String, routingKey: String) {
            self.queue = queue
            self.exchange = exchange
            self.routingKey = routingKey
        }
    }

    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]

    public init(exchanges: [Exchange] = [], queues: [Queue] = [], bindings: [Binding] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }
}
