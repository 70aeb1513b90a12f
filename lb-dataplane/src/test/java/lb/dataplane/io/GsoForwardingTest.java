package lb.dataplane.io;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * GSO super-frames through PACKET_VNET_HDR rings. A (client, 198.18.0.1) and C (server,
 * 198.18.0.3) share one Ethernet segment that B bridges in user space: two packet sockets with
 * vnet headers, every frame received on one side sent on the other with the virtio-net header it
 * arrived with. Veth offloads stay on (the default), so A's TCP hands B 64 KiB super-frames with a
 * partial checksum; the kernel on B's far side segments them and completes the checksum. A real
 * TCP transfer must arrive with the same SHA-256.
 */
class GsoForwardingTest
{
    private static final int TRANSFER_BYTES = 16 << 20;
    private static final long TIMEOUT_MS = 20_000;
    private static final String SERVER = String.join("\n",
        "import socket, hashlib",
        "s = socket.socket()",
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
        "s.bind(('198.18.0.3', 5001))",
        "s.listen(1)",
        "s.settimeout(20)",
        "print('listening', flush=True)",
        "c, _ = s.accept()",
        "c.settimeout(20)",
        "h = hashlib.sha256()",
        "n = 0",
        "while True:",
        "    d = c.recv(1 << 20)",
        "    if not d:",
        "        break",
        "    h.update(d)",
        "    n += len(d)",
        "print(n, h.hexdigest(), flush=True)",
        "c.close()");
    private static final String CLIENT = String.join("\n",
        "import socket, hashlib, random, sys",
        "data = random.Random(1).randbytes(int(sys.argv[1]))",
        "c = socket.create_connection(('198.18.0.3', 5001), timeout=20)",
        "c.sendall(data)",
        "c.shutdown(socket.SHUT_WR)",
        "while c.recv(4096):",
        "    pass",
        "print(len(data), hashlib.sha256(data).hexdigest(), flush=True)");

    private static TestNetwork net;
    private static String nsA;
    private static String nsB;
    private static String nsC;

    @BeforeAll
    static void createNetwork()
    {
        net = TestNetwork.create();
        if (!java.nio.file.Files.isExecutable(java.nio.file.Path.of(TestNetwork.PYTHON)))
        {
            throw new IllegalStateException("this test needs " + TestNetwork.PYTHON + " for a TCP transfer");
        }
        nsA = net.namespace("a");
        nsB = net.namespace("b");
        nsC = net.namespace("c");
        net.veth(nsA, "a0", "02:00:00:00:0a:01", nsB, "b0", "02:00:00:00:0b:00");
        net.veth(nsB, "b1", "02:00:00:00:0b:01", nsC, "c0", "02:00:00:00:0c:01");
        net.exec(nsA, TestNetwork.IP, "addr", "add", "198.18.0.1/24", "dev", "a0");
        net.exec(nsC, TestNetwork.IP, "addr", "add", "198.18.0.3/24", "dev", "c0");
    }

    @AfterAll
    static void deleteNetwork()
    {
        if (null != net)
        {
            net.close();
        }
    }

    @ParameterizedTest
    @EnumSource(RingConfig.Version.class)
    void tcpTransferThroughVnetBridgeArrivesIntact(final RingConfig.Version version) throws Exception
    {
        final RingConfig config = RingConfig.builder().version(version).vnetHeader(true).build();
        try (PacketSocket left = NetNs.call(nsB, () -> PacketSocket.open("b0", config));
            PacketSocket right = NetNs.call(nsB, () -> PacketSocket.open("b1", config)))
        {
            final Bridge bridge = new Bridge(left, right);
            final Thread thread = new Thread(bridge, "bridge");
            thread.start();
            try
            {
                final Process server = net.start(nsC, TestNetwork.PYTHON, "-c", SERVER);
                final BufferedReader serverOut = reader(server);
                assertEquals("listening", readLine(serverOut));
                final Process client = net.start(nsA, TestNetwork.PYTHON, "-c", CLIENT, Integer.toString(TRANSFER_BYTES));
                final String sent = readLine(reader(client));
                final String received = readLine(serverOut);

                assertNotNull(sent, () -> "client failed: " + stderr(client));
                assertNotNull(received, () -> "server failed: " + stderr(server));
                assertTrue(sent.startsWith(TRANSFER_BYTES + " "), sent);
                assertEquals(sent, received);
            }
            finally
            {
                bridge.running = false;
                thread.join(TIMEOUT_MS);
            }
            assertFalse(thread.isAlive());
            assertNull(bridge.failure);

            // What the kernel handed over: TCP super-frames with their GSO metadata.
            assertTrue(bridge.gsoFrames > 0, "no GSO super-frame seen");
            assertTrue(bridge.maxLength > 1514, "largest frame " + bridge.maxLength);
            assertEquals(VnetHeader.GSO_TCPV4, bridge.firstGsoType & ~VnetHeader.GSO_ECN);
            assertTrue(bridge.firstGsoSize > 0 && bridge.firstGsoSize <= 1460, "gso size " + bridge.firstGsoSize);
            assertEquals(VnetHeader.F_NEEDS_CSUM, bridge.firstGsoFlags & VnetHeader.F_NEEDS_CSUM);
            assertEquals(14 + 20, bridge.firstCsumStart);
            assertEquals(16, bridge.firstCsumOffset);
            assertTrue(bridge.firstHdrLen >= 14 + 20 + 20, "hdr len " + bridge.firstHdrLen);
            assertTrue((bridge.firstFrameFlags & FrameHandler.VNET_HEADER) != 0);
            assertTrue((bridge.firstFrameFlags & FrameHandler.CHECKSUM_PARTIAL) != 0);
            // A partial checksum field holds the pseudo-header sum (with the super-frame's length), not inverted.
            assertEquals(bridge.firstPseudoHeaderSum, bridge.firstCheckField);
            assertEquals(0, bridge.truncated);
            assertEquals(0, left.rxTruncated() + right.rxTruncated());
            System.out.printf("%s vnet: frames=%d gso=%d max=%d first gso: type=%d size=%d hdrLen=%d " +
                "csum=%d/%d flags=%d status=0x%x; txRingFull=%d%n",
                version, bridge.frames, bridge.gsoFrames, bridge.maxLength, bridge.firstGsoType, bridge.firstGsoSize,
                bridge.firstHdrLen, bridge.firstCsumStart, bridge.firstCsumOffset, bridge.firstGsoFlags,
                bridge.firstFrameFlags, left.txRingFull() + right.txRingFull());
        }
    }

    private static BufferedReader reader(final Process process)
    {
        return new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    private static String readLine(final BufferedReader reader) throws Exception
    {
        final CompletableFuture<String> line = CompletableFuture.supplyAsync(() ->
        {
            try
            {
                return reader.readLine();
            }
            catch (final Exception ex)
            {
                return null;
            }
        });
        return line.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    private static String stderr(final Process process)
    {
        try
        {
            process.waitFor(1, TimeUnit.SECONDS);
            return new String(process.getErrorStream().readNBytes(4096), StandardCharsets.UTF_8);
        }
        catch (final Exception ex)
        {
            return ex.toString();
        }
    }

    /** Forwards every frame between two vnet packet sockets, keeping each frame's vnet header. */
    static final class Bridge implements Runnable
    {
        final PacketSocket left;
        final PacketSocket right;
        volatile boolean running = true;
        volatile Throwable failure;
        long frames;
        long gsoFrames;
        long truncated;
        int maxLength;
        int firstGsoType;
        int firstGsoSize;
        int firstGsoFlags;
        int firstHdrLen;
        int firstCsumStart;
        int firstCsumOffset;
        int firstFrameFlags;
        int firstCheckField;
        int firstPseudoHeaderSum;
        private final VnetHeader vnet = new VnetHeader();
        private final FrameHandler toRight;
        private final FrameHandler toLeft;

        Bridge(final PacketSocket left, final PacketSocket right)
        {
            this.left = left;
            this.right = right;
            toRight = (buffer, offset, length, flags) -> forward(right, buffer, offset, length, flags);
            toLeft = (buffer, offset, length, flags) -> forward(left, buffer, offset, length, flags);
        }

        private void forward(
            final PacketSocket out, final UnsafeBuffer buffer, final int offset, final int length, final int flags)
        {
            frames++;
            if ((flags & FrameHandler.TRUNCATED) != 0)
            {
                truncated++;
                return;
            }
            vnet.wrap(buffer, offset - VnetHeader.LENGTH);
            maxLength = Math.max(maxLength, length);
            if (vnet.isGso() && (buffer.getShort(offset + 12, ByteOrder.BIG_ENDIAN) & 0xFFFF) == 0x0800)
            {
                if (0 == gsoFrames++)
                {
                    firstGsoType = vnet.gsoType();
                    firstGsoSize = vnet.gsoSize();
                    firstGsoFlags = vnet.flags();
                    firstHdrLen = vnet.hdrLen();
                    firstCsumStart = vnet.csumStart();
                    firstCsumOffset = vnet.csumOffset();
                    firstFrameFlags = flags;
                    firstCheckField = buffer.getShort(offset + vnet.csumStart() + vnet.csumOffset(), ByteOrder.BIG_ENDIAN) & 0xFFFF;
                    firstPseudoHeaderSum = pseudoHeaderSum(buffer, offset + 14);
                }
            }
            out.send(buffer, offset, length, vnet);
        }

        /** Folded one's complement sum of the IPv4 TCP pseudo-header, not inverted. */
        static int pseudoHeaderSum(final UnsafeBuffer buffer, final int ip)
        {
            final int headerLength = (buffer.getByte(ip) & 0x0F) * 4;
            final int totalLength = buffer.getShort(ip + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            long sum = 6 + (totalLength - headerLength);
            for (int i = 12; i < 20; i += 2)
            {
                sum += buffer.getShort(ip + i, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            }
            while ((sum >>> 16) != 0)
            {
                sum = (sum & 0xFFFF) + (sum >>> 16);
            }
            return (int)sum;
        }

        @Override
        public void run()
        {
            final long deadline = System.currentTimeMillis() + 2 * TIMEOUT_MS;
            try
            {
                while (running && System.currentTimeMillis() < deadline)
                {
                    final int work = left.receive(toRight, 256) + right.receive(toLeft, 256);
                    right.flush();
                    left.flush();
                    if (0 == work)
                    {
                        LockSupport.parkNanos(20_000);
                    }
                }
            }
            catch (final Throwable ex)
            {
                failure = ex;
            }
        }
    }
}
