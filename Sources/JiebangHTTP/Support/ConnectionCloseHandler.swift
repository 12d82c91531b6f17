import NIOCore
import NIOHTTP1

/// Makes a request head that asks for its connection to close say so in the one form Hummingbird reads.
///
/// Hummingbird closes a connection after an answer only when the request's `Connection` header is exactly
/// `close`, and it sees requests after their conversion to HTTP types, which keep no HTTP version. So an
/// HTTP/1.0 request without `keep-alive` (ApacheBench without `-k`, HAProxy's and other health checks), or one
/// saying `Connection: Close` or `close, TE`, had its answer and then its connection held open until the idle
/// timeout, each such client taking one of the server's connections meanwhile. This handler reads the head
/// as NIO's parser made it, with its version, and where the connection is not to be kept alive
/// (`HTTPRequestHead.isKeepAlive`, RFC 9112 §9.3) sets `Connection: close`.
///
/// It must sit between NIO's HTTP/1 decoder and the conversion to HTTP types, where Hummingbird adds no handler
/// of ours: ``install(inPipelineOf:)`` puts it there.
final class ConnectionCloseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data), !head.isKeepAlive, head.headers["connection"] != ["close"] else {
            context.fireChannelRead(data)
            return
        }
        head.headers.replaceOrAdd(name: "connection", value: "close")
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// Adds the handler right after the HTTP/1 request decoder of the pipeline `context` is in, if it has one.
    static func install(inPipelineOf context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        guard let decoder = try? pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self) else { return }
        try? pipeline.addHandler(ConnectionCloseHandler(), position: .after(decoder.handler))
    }
}
