import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on loopback that can silently stop forwarding, like a network cut that
/// sends no reset: the peers see nothing, not even a close. For testing heartbeat-based
/// detection of dead connections.
public final class BlackholeProxy: Sendable {
    public let port: Int
    private let channel: any Channel
    private let cut: Cut

    final class Cut: Sendable {
        let isCut = Atomic<Bool>(false)
    }

    public init(targetHost: String, targetPort: Int) async throws {
        let cut = Cut()
        let group = MultiThreadedEventLoopGroup.singleton
        self.cut = cut
        self.channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: group).connect(host: targetHost, port: targetPort).flatMap { outbound in
                    outbound.pipeline.addHandler(Relay(peer: inbound, cut: cut)).flatMap {
                        inbound.pipeline.addHandler(Relay(peer: outbound, cut: cut))
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.port = channel.localAddress?.port ?? 0
    }

    /// Drop everything from now on, in both directions, without closing anything.
    public func cutNetwork() { cut.isCut.store(true, ordering: .relaxed) }

    /// Forward again; connections that lost bytes while cut stay broken, new ones work.
    public func restoreNetwork() { cut.isCut.store(false, ordering: .relaxed) }

    public func close() async throws { try await channel.close() }

    final class Relay: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let peer: any Channel
        let cut: Cut

        init(peer: any Channel, cut: Cut) {
            self.peer = peer
            self.cut = cut
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !cut.isCut.load(ordering: .relaxed) else { return }
            peer.writeAndFlush(Self.unwrapInboundIn(data), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            peer.close(promise: nil)
            context.fireChannelInactive()
        }
    }
}
