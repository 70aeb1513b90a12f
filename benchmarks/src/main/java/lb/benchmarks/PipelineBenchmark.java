package lb.benchmarks;

import lb.dataplane.flow.FlowTable;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.TcpHeader;
import lb.dataplane.pipeline.DataplaneCounters;
import lb.dataplane.pipeline.FrameSink;
import lb.dataplane.pipeline.PacketPipeline;
import lb.dataplane.pipeline.Service;
import lb.dataplane.pipeline.ServiceTable;
import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.Scheduler;
import lb.dataplane.sched.SchedulerKind;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * The whole client-side path of {@link PacketPipeline#onClientFrame} for packets of established TCP flows: admit,
 * classify, service lookup, flow lookup, backend check, TCP state tracking, flow touch, forward NAT rewrite and
 * the send to a sink that only counts.
 * <p>
 * Setup: one TCP service (VIP:80) with a pool of 3 backends (healthy, MAC known) and a round-robin scheduler; a
 * flow table of capacity 2 x {@code flows} (each flow is a forward and a return entry). One 64-byte SYN per flow
 * creates the flows, then one ACK per flow moves them to ESTABLISHED, so the measured packets (ACK, no SYN) all
 * take the established path and never reach the scheduler.
 * <p>
 * The frames, one per flow, lie back to back in one off-heap buffer, 64 bytes each, and are sent in order, so every
 * packet is a different flow and a flow comes round again only after all others. The rewrite changes the frame in
 * place (MACs, TTL, destination address, checksums), so each operation first copies the frame back from a pristine
 * image in a second buffer; {@link #restoreOnly()} does only that (same buffers, same order), so the pipeline's own
 * cost is {@code established - restoreOnly}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PipelineBenchmark
{
    private static final int FRAME_LENGTH = TcpFrames.SMALL_FRAME_LENGTH;
    private static final long LB_CLIENT_MAC = 0x0200_0000_00AAL;
    private static final long LB_SERVER_MAC = 0x0200_0000_00BBL;
    private static final long CLIENT_ROUTER_MAC = 0x0200_0000_0001L;
    private static final int LB_CLIENT_IP = 0xC612_0001;     // 198.18.0.1
    private static final int VIP = 0xC612_0064;              // 198.18.0.100
    private static final int GATEWAY_IP = 0xC613_00FE;       // 198.19.0.254
    private static final int FIRST_BACKEND_IP = 0xC613_0001; // 198.19.0.1
    private static final int CLIENT_NET = 0xC613_8000;       // clients in 198.19.128.0/17
    private static final int CLIENT_HOST_BITS = 15;
    private static final int SERVICE_PORT = 80;
    private static final int BACKENDS = 3;

    /** Number of distinct established flows the frames belong to. */
    @Param({ "10000", "1000000" })
    public int flows;

    /** Flow table in transparent huge pages (madvised mmap) or in a plain direct buffer. */
    @Param({"false", "true"})
    boolean hugePages;

    private PacketPipeline pipeline;
    private DataplaneCounters counters;
    private CountingSink toServer;
    private UnsafeBuffer frames;
    private UnsafeBuffer pristine;
    private int limit;
    private int cursor;
    private long now;
    private long sinkFramesBefore;
    private long txCounterBefore;

    /** A sink that counts frames and accepts them all. */
    static final class CountingSink implements FrameSink
    {
        long frames;

        public boolean send(final DirectBuffer buffer, final int offset, final int length)
        {
            frames++;
            return true;
        }
    }

    @Setup(Level.Trial)
    public void setUp()
    {
        final CountersManager countersManager =
            new CountersManager(TcpFrames.allocate(256 * 1024), TcpFrames.allocate(64 * 1024));
        counters = new DataplaneCounters(countersManager, 0);

        final BackendPool pool = new BackendPool();
        for (int i = 0; i < BACKENDS; i++)
        {
            final int handle = pool.add(FIRST_BACKEND_IP + i, 0, 1);
            pool.setMac(handle, 0x0200_0000_1000L + i);
            pool.setHealthy(handle, true);
        }
        final Scheduler scheduler = SchedulerKind.ROUND_ROBIN.create(pool);
        scheduler.refresh();
        final ServiceTable services = new ServiceTable();
        services.add(new Service(1, "bench", VIP, SERVICE_PORT, 6, pool, scheduler));

        toServer = new CountingSink();
        pipeline = new PacketPipeline(services, new FlowTable(2 * flows, lb.dataplane.flow.FullPolicy.REFUSE, hugePages ? lb.dataplane.io.HugePageMemory::allocate : null), counters, new lb.dataplane.pipeline.BackendStatsTable(), new CountingSink(), toServer,
            new CountingSink(), LB_CLIENT_MAC, LB_SERVER_MAC, LB_CLIENT_IP, GATEWAY_IP);
        now = System.nanoTime();

        limit = flows * FRAME_LENGTH;
        frames = TcpFrames.allocate(limit);
        pristine = TcpFrames.allocate(limit);
        for (int i = 0; i < flows; i++)
        {
            final int offset = i * FRAME_LENGTH;
            writeFrame(frames, offset, i, TcpHeader.SYN);
            pipeline.onClientFrame(frames, offset, FRAME_LENGTH, 0, now);
        }
        for (int i = 0; i < flows; i++)
        {
            final int offset = i * FRAME_LENGTH;
            writeFrame(pristine, offset, i, TcpHeader.ACK);
            TcpFrames.restore64(frames, offset, pristine, offset);
            pipeline.onClientFrame(frames, offset, FRAME_LENGTH, 0, now);
        }
        verifySetUp();
        sinkFramesBefore = toServer.frames;
        txCounterBefore = counters.txServerFrames.get();
        cursor = 0;
    }

    @TearDown(Level.Trial)
    public void checkEveryPacketWasForwarded()
    {
        if (counters.totalDrops() != 0 || pipeline.flowCount() != flows ||
            counters.flowsCreated.get() != flows || counters.flowsRepicked.get() != 0)
        {
            throw new IllegalStateException("the measured packets did not all take the established path: drops " +
                counters.totalDrops() + ", flows " + pipeline.flowCount() + ", created " + counters.flowsCreated.get());
        }
        final long sunk = toServer.frames - sinkFramesBefore;
        final long counted = counters.txServerFrames.get() - txCounterBefore;
        if (sunk != counted)
        {
            throw new IllegalStateException("sink saw " + sunk + " frames, tx counter " + counted);
        }
    }

    /** Copy the next frame back from its pristine image: the part of {@link #established()} to subtract. */
    @Benchmark
    public void restoreOnly()
    {
        final int offset = cursor;
        final int next = offset + FRAME_LENGTH;
        cursor = next == limit ? 0 : next;
        TcpFrames.restore64(frames, offset, pristine, offset);
    }

    /** Restore the next frame, then run it through the pipeline as a packet of an established flow. */
    @Benchmark
    public void established()
    {
        final int offset = cursor;
        final int next = offset + FRAME_LENGTH;
        cursor = next == limit ? 0 : next;
        TcpFrames.restore64(frames, offset, pristine, offset);
        pipeline.onClientFrame(frames, offset, FRAME_LENGTH, 0, now);
    }

    /** Frames per batch in the batched benchmarks: about what one RX ring poll hands over under load. */
    static final int BATCH = 32;

    /**
     * A batch as the worker handles it: restore the frames, start each frame's flow-table load
     * ({@link PacketPipeline#prefetch}), then run them through the pipeline. Per frame.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void establishedBatched()
    {
        runBatch(true);
    }

    /** The same batch loop without the prefetch pass: the fair baseline for {@link #establishedBatched()}. Per frame. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void establishedUnbatched()
    {
        runBatch(false);
    }

    private void runBatch(final boolean prefetch)
    {
        final int start = cursor;
        int offset = start;
        for (int i = 0; i < BATCH; i++)
        {
            TcpFrames.restore64(frames, offset, pristine, offset);
            if (prefetch)
            {
                pipeline.prefetch(frames, offset, FRAME_LENGTH);
            }
            offset = advance(offset);
        }
        offset = start;
        for (int i = 0; i < BATCH; i++)
        {
            pipeline.onClientFrame(frames, offset, FRAME_LENGTH, 0, now);
            offset = advance(offset);
        }
        cursor = offset;
    }

    private int advance(final int offset)
    {
        final int next = offset + FRAME_LENGTH;
        return next == limit ? 0 : next;
    }

    private void writeFrame(final UnsafeBuffer buffer, final int offset, final int flow, final int tcpFlags)
    {
        final int clientIp = CLIENT_NET | (flow & ((1 << CLIENT_HOST_BITS) - 1));
        final int clientPort = 1024 + (flow >>> CLIENT_HOST_BITS);
        TcpFrames.write(buffer, offset, FRAME_LENGTH, LB_CLIENT_MAC, CLIENT_ROUTER_MAC, clientIp, VIP, clientPort,
            SERVICE_PORT, tcpFlags);
    }

    private void verifySetUp()
    {
        final FlowTable table = pipeline.flows();
        if (pipeline.flowCount() != flows || table.size() != 2 * flows || counters.totalDrops() != 0 ||
            counters.flowsCreated.get() != flows || counters.txServerFrames.get() != 2L * flows)
        {
            throw new IllegalStateException("setup: flows " + pipeline.flowCount() + ", entries " + table.size() +
                ", drops " + counters.totalDrops() + " (no flow " + counters.drops(DropReason.NO_FLOW) + ", full " +
                counters.drops(DropReason.FLOW_TABLE_FULL) + "), created " + counters.flowsCreated.get() +
                ", sent " + counters.txServerFrames.get());
        }
        for (int slot = table.nextOccupied(0); slot != FlowTable.MISSING; slot = table.nextOccupied(slot + 1))
        {
            if (table.tcpState(slot) != FlowTable.TCP_ESTABLISHED)
            {
                throw new IllegalStateException("entry in slot " + slot + " is in TCP state " + table.tcpState(slot));
            }
        }
        // The first measured packet must be rewritten toward a backend: check one by hand.
        TcpFrames.restore64(frames, 0, pristine, 0);
        pipeline.onClientFrame(frames, 0, FRAME_LENGTH, 0, now);
        final int dstIp = frames.getInt(EthernetHeader.HEADER_LENGTH + Ipv4Header.DESTINATION_OFFSET, BIG_ENDIAN);
        if (dstIp < FIRST_BACKEND_IP || dstIp >= FIRST_BACKEND_IP + BACKENDS ||
            !TcpFrames.checksumsValid(frames, 0, FRAME_LENGTH))
        {
            throw new IllegalStateException("established packet was not rewritten to a backend with valid checksums");
        }
        TcpFrames.restore64(frames, 0, pristine, 0);
    }
}
