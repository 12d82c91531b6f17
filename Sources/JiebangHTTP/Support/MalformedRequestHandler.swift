import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import StreamingJSON

/// Gives the 400 answer to a request NIO's HTTP/1 parser refuses a problem+json body that says what was wrong.
///
/// Hummingbird answers such a request (raw UTF-8 in the URL, a malformed header, a bad `Content-Length`)
/// with `400`, `Content-Length: 0` and `Connection: close`, and nothing to tell the client why. This handler
/// sits between the codec and Hummingbird: it notes the parser's error on its way in, and rewrites the bare
/// 400 that Hummingbird then writes into a problem naming the part of the request and the reason. The answer
/// keeps its place after any earlier pipelined request's answer, and the connection still closes after it.
///
/// When the parser fails in the body of a request that has had its answer already (a 401 or 404 given before the
/// body was read, then a malformed chunk), Hummingbird's 400 would be a second answer to one request, which a
/// client reusing the connection would take for the answer to its next request. That 400 is dropped; the
/// connection closes as before.
final class MalformedRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The parser's error, until the answer to it is written.
    private var refused: HTTPParserError?
    /// Requests whose head was read, and answers whose (final) head was written.
    private var requestsRead = 0
    private var answersWritten = 0
    /// Whether a request's head was read and its end not yet.
    private var readingBody = false
    /// Whether the parser failed in the body of a request (its head was read), not at the start of one.
    private var refusedInBody = false
    /// Whether the parts of that 400 are being dropped (its head was).
    private var dropping = false

    /// Puts ``ConnectionCloseHandler`` in front of the conversion to HTTP types, where no handler of ours can be added.
    func handlerAdded(context: ChannelHandlerContext) {
        ConnectionCloseHandler.install(inPipelineOf: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requestsRead += 1
            readingBody = true
        case .end:
            readingBody = false
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? HTTPParserError {
            refused = error
            refusedInBody = readingBody
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        if dropping {
            if case .end = part { dropping = false }
            promise?.succeed(())
            return
        }
        guard let refused, case .head(let head) = part, head.status == .badRequest, head.headerFields[.contentLength] == "0" else {
            if case .head(let head) = part, head.status.kind != .informational { answersWritten += 1 }
            context.write(data, promise: promise)
            return
        }
        self.refused = nil
        // A refusal in the body of a request whose answer is written already: the 400 would be its second answer.
        if refusedInBody && answersWritten >= requestsRead {
            dropping = true
            promise?.succeed(())
            return
        }
        answersWritten += 1
        var body = context.channel.allocator.buffer(capacity: 512)
        do {
            try StreamingJSONEncoder().encode(Self.problem(for: refused), into: &body)
        } catch {
            context.write(data, promise: promise)
            return
        }
        var fields = head.headerFields
        fields[.contentType] = "application/problem+json; charset=utf-8"
        fields[.contentLength] = String(body.readableBytes)
        for field in SecurityHeaders.fields where fields[field.name] == nil { fields.append(field) }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .badRequest, headerFields: fields))), promise: promise)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
    }

    /// The problem that explains `error`: the part of the request at fault and why.
    static func problem(for error: HTTPParserError) -> Problem {
        let (field, message): (String, String)
        switch error {
        case .invalidURL:
            field = "request-target"
            message =
                "is not a valid URL: a character outside ASCII letters, digits and -._~!$&'()*+,;=:@/? must be sent"
                + " percent-encoded as its UTF-8 bytes (稀土 as %E7%A8%80%E5%9C%9F)"
        case .invalidMethod:
            field = "method"
            message = "is not an HTTP method"
        case .invalidVersion:
            field = "version"
            message = "is not HTTP/1.0 or HTTP/1.1"
        case .headerOverflow:
            field = "headers"
            message = "are larger than the server accepts (a header, or the request line with its URL, is too long)"
        case .invalidHeaderToken, .invalidCharactersUsed:
            field = "headers"
            message = "have a name or value with a character HTTP does not allow"
        case .invalidContentLength, .unexpectedContentLength:
            field = "Content-Length"
            message = "is not a single whole number, or conflicts with Transfer-Encoding"
        case .invalidChunkSize:
            field = "body"
            message = "has a chunk whose size is not a hexadecimal number"
        default:
            field = "request"
            message = "is not valid HTTP/1.1 (\(error.debugDescription))"
        }
        return Problem(
            status: .badRequest, title: "Malformed request",
            detail: "The request could not be read as HTTP; the connection is closed after this answer.",
            errors: [.init(field: field, message: message)])
    }
}
