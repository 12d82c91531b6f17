/// An error of the job queue, with its cause.
public struct JobQueueError: Error, Sendable, CustomStringConvertible, Hashable {
    /// What kind of error.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidOptions, unknownKind, invalidArguments, notFound, invalidState
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// An option is out of range; the message names it.
        public static let invalidOptions = Code(.invalidOptions)
        /// No handler is registered for a job's kind.
        public static let unknownKind = Code(.unknownKind)
        /// A job's arguments do not decode as its kind's type.
        public static let invalidArguments = Code(.invalidArguments)
        /// No job has that id.
        public static let notFound = Code(.notFound)
        /// The job is in a state that does not allow the operation.
        public static let invalidState = Code(.invalidState)

        public var description: String { base.rawValue }
    }

    /// The kind of error.
    public var code: Code
    /// What happened, naming the field, job or kind.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
