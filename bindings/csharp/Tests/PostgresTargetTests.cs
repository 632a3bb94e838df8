using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>
    /// A PostgreSQL target given to AsyncOperationQueue.Open (ASYNCOP_TEST_POSTGRES, which
    /// bindings/csharp/run-tests always provides): the accepted forms, and the refusals, each of
    /// which creates and changes nothing. The scenarios themselves run on both stores through
    /// the [TestFixture("postgres")] fixtures.
    /// </summary>
    [TestFixture]
    public class PostgresTargetTests
    {
        const string Password = "s3cret-pw-xyzzy";
        string dir, cwd;

        [SetUp]
        public void EnterEmptyDir()
        {
            // A target is never taken for a file name: nothing may appear in the working directory.
            dir = Path.Combine(Path.GetTempPath(), "asyncop-cs-pg-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            cwd = Directory.GetCurrentDirectory();
            Directory.SetCurrentDirectory(dir);
        }

        [TearDown]
        public void LeaveDir()
        {
            Directory.SetCurrentDirectory(cwd);
            Assert.IsEmpty(Directory.GetFileSystemEntries(dir), "a refused open left a file behind");
            Directory.Delete(dir, true);
        }

        /// <summary>A port on 127.0.0.1 nothing listens on: the kernel's choice, released.</summary>
        static int DeadPort()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            return port;
        }

        static string SchemaOf(string target) { return target.Substring(target.LastIndexOf("schema=", StringComparison.Ordinal) + 7); }

        [TestCase("postgres://postgres@127.0.0.1:notaport/asyncop")]
        [TestCase("postgresql://postgres@127.0.0.1:99999999/asyncop")]
        [TestCase("host=127.0.0.1 port=x dbname=asyncop")]
        [TestCase("host='127.0.0.1 dbname=asyncop")]
        public void ATargetThatDoesNotParseIsInvalidArgument(string target)
        {
            var e = Assert.Throws<AsyncopInvalidArgumentException>(() => AsyncOperationQueue.Open(target));
            Assert.AreEqual(AsyncopErrorCode.InvalidArgument, e.Code);
            Assert.IsNotEmpty(e.Message);
        }

        [TestCase("Upper")]
        [TestCase("1digit")]
        [TestCase("has-dash")]
        [TestCase("semi;colon")]
        [TestCase("")]
        [TestCase("a123456789012345678901234567890123456789012345678901234567890123")]
        public void ASchemaThatIsNotAnIdentifierIsInvalidArgument(string schema)
        {
            var e = Assert.Throws<AsyncopInvalidArgumentException>(() => AsyncOperationQueue.Open(QueueFixture.PostgresUrl() + "?schema=" + schema));
            StringAssert.Contains("schema", e.Message);
            Assert.AreEqual("0", QueueFixture.Psql("SELECT count(*) FROM pg_namespace WHERE lower(nspname) = lower('" + schema.Replace(";", "") + "')"));
        }

        [TestCase("0")]
        [TestCase("many")]
        public void ABadPoolSizeIsInvalidArgument(string poolSize)
        {
            string target = QueueFixture.FreshPostgresTarget("pool");
            var e = Assert.Throws<AsyncopInvalidArgumentException>(() => AsyncOperationQueue.Open(target + "&pool_size=" + poolSize));
            StringAssert.Contains("pool_size", e.Message);
            Assert.AreEqual("0", QueueFixture.Psql("SELECT count(*) FROM pg_namespace WHERE nspname = '" + SchemaOf(target) + "'"));
        }

        [Test]
        public void AServerThatIsDownIsAnIOErrorWithoutThePassword()
        {
            int port = DeadPort();
            foreach (string target in new[]
            {
                "postgres://someone:" + Password + "@127.0.0.1:" + port + "/asyncop?schema=x",
                "host=127.0.0.1 port=" + port + " user=someone password=" + Password + " dbname=asyncop connect_timeout=5",
            })
            {
                var e = Assert.Throws<AsyncopIOException>(() => AsyncOperationQueue.Open(target));
                Assert.AreEqual(AsyncopErrorCode.IO, e.Code);
                StringAssert.DoesNotContain(Password, e.ToString());
                StringAssert.Contains("127.0.0.1:" + port, e.Message);
            }
        }

        [Test]
        public void ANewerSchemaVersionIsCorruptAndLeftUnchanged()
        {
            string target = QueueFixture.FreshPostgresTarget("newer");
            string schema = SchemaOf(target);
            using (var q = AsyncOperationQueue.Open(target)) q.Submit("before", 4);
            QueueFixture.Psql("UPDATE " + schema + ".schema_version SET version = 999");
            string before = QueueFixture.Psql("SELECT id, state, modified_on FROM " + schema + ".operation");
            var e = Assert.Throws<AsyncopCorruptException>(() => AsyncOperationQueue.Open(target));
            Assert.AreEqual(AsyncopErrorCode.Corrupt, e.Code);
            StringAssert.Contains("999", e.Message);
            Assert.AreEqual("999", QueueFixture.Psql("SELECT string_agg(version::text, ',') FROM " + schema + ".schema_version"));
            Assert.AreEqual(before, QueueFixture.Psql("SELECT id, state, modified_on FROM " + schema + ".operation"));
        }

        [Test]
        public void UrlAndConninfoNameTheSameQueue()
        {
            string target = QueueFixture.FreshPostgresTarget("forms");
            string schema = SchemaOf(target);
            long id;
            using (var q = AsyncOperationQueue.Open(target)) id = q.Submit("by url", 3);
            Assert.AreEqual("by url", QueueFixture.Psql("SELECT name FROM " + schema + ".operation WHERE id = " + id));
            var url = new Uri(QueueFixture.PostgresUrl());
            string conninfo = "host=" + url.Host + " port=" + url.Port + " user=" + url.UserInfo.Split(':')[0]
                + " dbname=" + url.AbsolutePath.TrimStart('/') + " schema=" + schema + " pool_size=2";
            using (var q = AsyncOperationQueue.Open(conninfo)) Assert.AreEqual("by url", q.Retrieve(id).Name);
        }
    }
}
