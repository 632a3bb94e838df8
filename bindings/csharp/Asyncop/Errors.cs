using System;

namespace Asyncop
{
    // AsyncopErrorCode and the code -> exception map (Errors.Make) are generated into Codes.g.cs by
    // scripts/gen-bindings from include/asyncop.h and the one family table the Python wrapper shares.

    /// <summary>An error reported by the asyncop library.</summary>
    public class AsyncopException : Exception
    {
        /// <summary>Creates an exception for a status code and message.</summary>
        public AsyncopException(AsyncopErrorCode code, string message) : base(message)
        {
            Code = code;
            int hr = Errors.HResultOf(code);
            if (hr != 0) HResult = hr;
        }

        /// <summary>The status code returned by the C ABI.</summary>
        public AsyncopErrorCode Code { get; private set; }
    }

    /// <summary>No operation with the given id.</summary>
    public class AsyncopNotFoundException : AsyncopException
    {
        /// <summary>Creates the exception.</summary>
        public AsyncopNotFoundException(AsyncopErrorCode code, string message) : base(code, message) { }
    }

    /// <summary>A user action refused in the operation's current state (Dynamics 365 HRESULTs); nothing changed.</summary>
    public class AsyncopInvalidStateChangeException : AsyncopException
    {
        /// <summary>Creates the exception.</summary>
        public AsyncopInvalidStateChangeException(AsyncopErrorCode code, string message) : base(code, message) { }
    }

    /// <summary>The lease expired or the operation was claimed again; nothing changed.</summary>
    public class AsyncopLeaseLostException : AsyncopException
    {
        /// <summary>Creates the exception.</summary>
        public AsyncopLeaseLostException(AsyncopErrorCode code, string message) : base(code, message) { }
    }

    /// <summary>The library refused an argument (invalid, NULL, bad UTF-8, out of range; an invalid handle through
    /// <see cref="AsyncopInvalidHandleException"/>).</summary>
    public class AsyncopInvalidArgumentException : AsyncopException
    {
        /// <summary>Creates the exception.</summary>
        public AsyncopInvalidArgumentException(AsyncopErrorCode code, string message) : base(code, message) { }
    }

    /// <summary>A handle the library never issued, or a handle of another type, was passed (InvalidHandle): a caller
    /// error, so an <see cref="AsyncopInvalidArgumentException"/>, as Python's InvalidHandleError is an
    /// InvalidArgumentError. The public API never passes one.</summary>
    public class AsyncopInvalidHandleException : AsyncopInvalidArgumentException
    {
        /// <summary>Creates the exception.</summary>
        public AsyncopInvalidHandleException(AsyncopErrorCode code, string message) : base(code, message) { }
    }

    /// <summary>The write lock was not obtained within the busy timeout; retryable.</summary>
    public class AsyncopBusyException : AsyncopException
    {
        /// <summary>Creates the exception.</summary>
        public AsyncopBusyException(AsyncopErrorCode code, string message) : base(code, message) { }
    }

    /// <summary>The file is not a usable asyncop database (at open it was left untouched), or a read or
    /// <see cref="AsyncOperationQueue.CheckIntegrity"/> found a damaged page or stored row.</summary>
    public class AsyncopCorruptException : AsyncopException
    {
        /// <summary>Creates the exception.</summary>
        public AsyncopCorruptException(AsyncopErrorCode code, string message) : base(code, message) { }
    }

    /// <summary>The handle was inherited across fork(); open a new queue.</summary>
    public class AsyncopForkedException : AsyncopException
    {
        /// <summary>Creates the exception.</summary>
        public AsyncopForkedException(AsyncopErrorCode code, string message) : base(code, message) { }
    }

    /// <summary>The queue file cannot be opened, read or written.</summary>
    public class AsyncopIOException : AsyncopException
    {
        /// <summary>Creates the exception.</summary>
        public AsyncopIOException(AsyncopErrorCode code, string message) : base(code, message) { }
    }

    /// <summary>An unexpected failure inside the library (SQLite error, bug, caught panic), or a code no wrapper call
    /// should surface (BufferTooSmall, the reserved Callback).</summary>
    public class AsyncopInternalException : AsyncopException
    {
        /// <summary>Creates the exception.</summary>
        public AsyncopInternalException(AsyncopErrorCode code, string message) : base(code, message) { }
    }

    internal static partial class Errors
    {
        /// <summary>The exception for a non-OK status (closed handles: ObjectDisposedException); see Codes.g.cs.</summary>
        internal static Exception Create(int rc, string message)
        {
            return Make((AsyncopErrorCode)rc, message);
        }
    }
}
