using System;
using System.Collections.Generic;

namespace Asyncop
{
    /// <summary>The status codes of the C ABI (asyncop_status); Dynamics 365 refusals are their HRESULTs.</summary>
    public enum AsyncopErrorCode
    {
        /// <summary>Success.</summary>
        Ok = 0,
        /// <summary>An argument is invalid.</summary>
        InvalidArgument = 1,
        /// <summary>A required pointer argument was NULL.</summary>
        NullArgument = 2,
        /// <summary>A string argument was not valid UTF-8.</summary>
        Utf8 = 3,
        /// <summary>An enum or boolean value is out of range.</summary>
        OutOfRange = 4,
        /// <summary>A buffer was too small (handled inside the wrapper).</summary>
        BufferTooSmall = 5,
        /// <summary>The handle was never issued or has another type.</summary>
        InvalidHandle = 6,
        /// <summary>The handle (or its queue) was closed.</summary>
        ClosedHandle = 7,
        /// <summary>No operation with this id.</summary>
        NotFound = 8,
        /// <summary>The lease is no longer held; nothing changed.</summary>
        LeaseLost = 9,
        /// <summary>The write lock was not obtained in time; retryable.</summary>
        Busy = 10,
        /// <summary>The file is not a usable asyncop database.</summary>
        Corrupt = 11,
        /// <summary>An unexpected SQLite failure or a bug.</summary>
        Internal = 12,
        /// <summary>A panic was caught inside the library.</summary>
        Panic = 13,
        /// <summary>The handle was inherited across fork().</summary>
        Forked = 14,
        /// <summary>Reserved for callbacks.</summary>
        Callback = 15,
        /// <summary>The file cannot be opened, read or written.</summary>
        IO = 16,
        /// <summary>0x80044162 AsyncOperationInvalidStateChange.</summary>
        InvalidStateChange = -2147204766,
        /// <summary>0x80044163 AsyncOperationInvalidStateChangeUnexpected (retryable).</summary>
        InvalidStateChangeUnexpected = -2147204765,
        /// <summary>0x80044165 AsyncOperationInvalidStateChangeToComplete.</summary>
        InvalidStateChangeToComplete = -2147204763,
        /// <summary>0x80044166 AsyncOperationInvalidStateChangeToReady.</summary>
        InvalidStateChangeToReady = -2147204762,
        /// <summary>0x80044167 AsyncOperationInvalidStateChangeToSuspended.</summary>
        InvalidStateChangeToSuspended = -2147204761,
        /// <summary>0x80044168 AsyncOperationCannotUpdateNonrecurring.</summary>
        CannotUpdateNonrecurring = -2147204760,
        /// <summary>0x80044169 AsyncOperationCannotUpdateRecurring.</summary>
        CannotUpdateRecurring = -2147204759,
        /// <summary>0x8004416a AsyncOperationCannotDeleteUnlessCompleted.</summary>
        CannotDeleteUnlessCompleted = -2147204758,
        /// <summary>0x80044303 AsyncOperationTypeIsNotRecognized (stored by hosts, never returned).</summary>
        TypeNotRecognized = -2147204349,
        /// <summary>0x80044F00 AsyncOperationCannotCancel.</summary>
        CannotCancel = -2147201280,
        /// <summary>0x80044F01 AsyncOperationCannotPause.</summary>
        CannotPause = -2147201279,
    }

    /// <summary>An error reported by the asyncop library.</summary>
    public class AsyncopException : Exception
    {
        /// <summary>Creates an exception for a status code and message.</summary>
        public AsyncopException(AsyncopErrorCode code, string message) : base(message)
        {
            Code = code;
            int hr = 0;
            try { hr = NativeMethods.asyncop_status_hresult((int)code); } catch (Exception) { }
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

    /// <summary>The library refused an argument (invalid, NULL, bad UTF-8, out of range).</summary>
    public class AsyncopInvalidArgumentException : AsyncopException
    {
        /// <summary>Creates the exception.</summary>
        public AsyncopInvalidArgumentException(AsyncopErrorCode code, string message) : base(code, message) { }
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

    /// <summary>An unexpected failure inside the library (SQLite error, bug, caught panic, bad handle).</summary>
    public class AsyncopInternalException : AsyncopException
    {
        /// <summary>Creates the exception.</summary>
        public AsyncopInternalException(AsyncopErrorCode code, string message) : base(code, message) { }
    }

    internal static class Errors
    {
        static readonly Dictionary<int, Func<AsyncopErrorCode, string, AsyncopException>> Factories = Build();

        static Dictionary<int, Func<AsyncopErrorCode, string, AsyncopException>> Build()
        {
            var d = new Dictionary<int, Func<AsyncopErrorCode, string, AsyncopException>>();
            Func<AsyncopErrorCode, string, AsyncopException> arg = (c, m) => new AsyncopInvalidArgumentException(c, m);
            Func<AsyncopErrorCode, string, AsyncopException> state = (c, m) => new AsyncopInvalidStateChangeException(c, m);
            Func<AsyncopErrorCode, string, AsyncopException> internalErr = (c, m) => new AsyncopInternalException(c, m);
            d[1] = arg; d[2] = arg; d[3] = arg; d[4] = arg;
            d[5] = internalErr; d[6] = internalErr; d[12] = internalErr; d[13] = internalErr; d[15] = internalErr;
            d[8] = (c, m) => new AsyncopNotFoundException(c, m);
            d[9] = (c, m) => new AsyncopLeaseLostException(c, m);
            d[10] = (c, m) => new AsyncopBusyException(c, m);
            d[11] = (c, m) => new AsyncopCorruptException(c, m);
            d[14] = (c, m) => new AsyncopForkedException(c, m);
            d[16] = (c, m) => new AsyncopIOException(c, m);
            foreach (AsyncopErrorCode c in Enum.GetValues(typeof(AsyncopErrorCode)))
                if ((int)c < 0) d[(int)c] = state;
            return d;
        }

        internal static Exception Create(int rc, string message)
        {
            if (rc == (int)AsyncopErrorCode.ClosedHandle)
                return new ObjectDisposedException("asyncop", message);
            Func<AsyncopErrorCode, string, AsyncopException> f;
            if (!Factories.TryGetValue(rc, out f)) f = (c, m) => new AsyncopException(c, m);
            return f((AsyncopErrorCode)rc, message);
        }
    }
}
