import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client is too slow to send a request: its head must arrive within
/// `headTimeout` of the connection being ready for it (opened, or done with the previous response),
/// and its body within `bodyTimeout` of the head.
///
/// The server's idle timeout restarts at every byte, so a client sending one byte a second would hold
/// a connection (and a request's buffers) for ever; these deadlines do not restart. A connection that
/// waits for its next request counts as a slow head too, so idle keep-alive connections close after
/// `headTimeout` as well. While a response is being made or sent nothing is timed: a slow reader is
/// bounded by the write side's own back-pressure.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let headTimeout: TimeAmount
    let bodyTimeout: TimeAmount
    /// When the connection closes, if nothing ends the wait first; nil while nothing is timed.
    private var deadline: NIODeadline?
    /// The timer that checks `deadline`, scheduled for it or earlier; nil when none is scheduled.
    ///
    /// Moving or clearing the deadline leaves the timer alone: when it fires it closes the connection if the
    /// deadline has passed, schedules itself again for a later one, and lapses when there is none. So a busy
    /// keep-alive connection schedules about one task per `headTimeout` instead of three per request (each
    /// with its promise, and a cancellation that fails that promise), which were 1.3% of the server's CPU
    /// samples in the deadline rush (Benchmarks/BidBenchmark).
    private var timer: Scheduled<Void>?
    /// When `timer` fires.
    private var timerDeadline: NIODeadline?
    /// Requests whose head arrived and whose response has not ended.
    private var open = 0
    /// Whether a request's body is being read.
    private var reading = false

    init(headTimeout: TimeAmount, bodyTimeout: TimeAmount) {
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(headTimeout, context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(headTimeout, context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            open += 1
            reading = true
            arm(bodyTimeout, context: context)
        case .body:
            break
        case .end:
            reading = false
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            open = max(0, open - 1)
            if open == 0, !reading { arm(headTimeout, context: context) }
        }
        context.write(data, promise: promise)
    }

    /// Sets the deadline `timeout` from now, scheduling the timer only when none fires by then.
    private func arm(_ timeout: TimeAmount, context: ChannelHandlerContext) {
        let due = NIODeadline.now() + timeout
        deadline = due
        if let timerDeadline, timerDeadline <= due { return }
        schedule(at: due, context: context)
    }

    private func schedule(at due: NIODeadline, context: ChannelHandlerContext) {
        timer?.cancel()
        timerDeadline = due
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: due) {
            let (handler, context) = loopBound.value
            handler.fired(context: context)
        }
    }

    /// The timer fired: close if the deadline passed, wait again for a later one, or lapse.
    private func fired(context: ChannelHandlerContext) {
        timer = nil
        timerDeadline = nil
        guard let deadline else { return }
        if deadline <= NIODeadline.now() {
            self.deadline = nil
            context.close(promise: nil)
        } else {
            schedule(at: deadline, context: context)
        }
    }

    private func stop() {
        deadline = nil
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }
}
