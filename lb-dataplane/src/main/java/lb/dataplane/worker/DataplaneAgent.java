package lb.dataplane.worker;

import lb.dataplane.flow.FlowTable;
import lb.dataplane.io.CpuAffinity;
import lb.dataplane.io.FrameHandler;
import lb.dataplane.io.PacketSocket;
import lb.dataplane.io.VnetHeader;
import lb.dataplane.packet.DropReason;
import lb.dataplane.pipeline.DataplaneCounters;
import lb.dataplane.pipeline.PacketPipeline;
import org.HdrHistogram.SingleWriterRecorder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.ringbuffer.RingBuffer;

/**
 * One dataplane worker's duty cycle: a batch of frames from each interface through the pipeline,
 * one TX kick per interface, the commands the control thread queued, and a slice of the flow
 * expiry walk. Everything it touches is its own (single writer); the control thread reaches it
 * only through the command ring.
 */
public final class DataplaneAgent implements Agent
{
    /** Frames taken from one ring per duty cycle: bounds the time between TX kicks. */
    public static final int RX_BATCH = 64;
    /** Commands applied per duty cycle. */
    static final int COMMAND_BATCH = 16;
    /** The expiry walk aims to cover the whole table once per this period. */
    static final long EXPIRY_PASS_NANOS = 1_000_000_000L;
    /**
     * At most this many slots per expiry slice (2 MiB of table, tens of microseconds), so a long
     * pause never turns into a long walk. An idle worker wakes every 10 ms, so this still covers
     * about 3.2M slots a second: a pass over the default table (1M flows) stays near 1 s.
     */
    static final int MAX_EXPIRY_SLICE = 32_768;

    private final String name;
    private final PacketPipeline pipeline;
    private final PacketSocket clientSocket;
    private final PacketSocket serverSocket;
    private final RingBuffer commands;
    private final FrameHandler clientHandler;
    private final FrameHandler serverHandler;
    private final FrameHandler prefetchHandler;
    private final RxFrameContext rx;
    private final MessageHandler commandHandler = this::onCommand;
    /** Time one frame in 64 through the pipeline: two clock reads, so most frames pay nothing. */
    static final int LATENCY_SAMPLE_MASK = 63;
    /** Samples above this (a GC pause, a preempted thread) are clamped so the histogram never resizes. */
    public static final long LATENCY_MAX_NANOS = 10_000_000_000L;

    /** How often the kernel's ring statistics are read: a syscall, so not every duty cycle. */
    static final long KERNEL_STATS_INTERVAL_NANOS = 100_000_000L;

    private final DataplaneCounters counters;
    private final CommandApplier applier;
    /** Per-packet processing time of one frame in {@link #LATENCY_SAMPLE_MASK} + 1, in nanoseconds. */
    private final SingleWriterRecorder latency;
    private int frameCount;
    private int cpu = -1;
    private long now;
    private long lastExpiry;
    private long lastKernelStats;
    private long reportedKernelDrops;

    /**
     * @param pipeline built with {@link SocketSink}s on these sockets sharing {@code rx}, so that
     *                 forwarded frames carry their virtio-net header along
     */
    public DataplaneAgent(final String name, final PacketPipeline pipeline, final PacketSocket clientSocket,
        final PacketSocket serverSocket, final RingBuffer commands, final RxFrameContext rx,
        final DataplaneCounters counters, final CommandApplier applier, final SingleWriterRecorder latency)
    {
        this.rx = rx;
        this.counters = counters;
        this.applier = applier;
        this.latency = latency;
        this.name = name;
        this.pipeline = pipeline;
        this.clientSocket = clientSocket;
        this.serverSocket = serverSocket;
        this.commands = commands;
        this.clientHandler = (buffer, offset, length, flags) ->
        {
            if ((++frameCount & LATENCY_SAMPLE_MASK) != 0)
            {
                pipeline.onClientFrame(buffer, offset, length, begin(buffer, offset, flags), now);
            }
            else
            {
                final long start = System.nanoTime();
                pipeline.onClientFrame(buffer, offset, length, begin(buffer, offset, flags), now);
                latency.recordValue(Math.min(System.nanoTime() - start, LATENCY_MAX_NANOS));
            }
        };
        this.prefetchHandler = (buffer, offset, length, flags) -> pipeline.prefetch(buffer, offset, length);
        this.serverHandler = (buffer, offset, length, flags) ->
        {
            if ((++frameCount & LATENCY_SAMPLE_MASK) != 0)
            {
                pipeline.onServerFrame(buffer, offset, length, begin(buffer, offset, flags), now);
            }
            else
            {
                final long start = System.nanoTime();
                pipeline.onServerFrame(buffer, offset, length, begin(buffer, offset, flags), now);
                latency.recordValue(Math.min(System.nanoTime() - start, LATENCY_MAX_NANOS));
            }
        };
    }

    /** Notes the frame's RX metadata and turns the socket's flags into the pipeline's. */
    private int begin(final DirectBuffer buffer, final int offset, final int socketFlags)
    {
        int flags = 0;
        rx.hasVnet = (socketFlags & FrameHandler.VNET_HEADER) != 0;
        if (rx.hasVnet)
        {
            rx.vnet.wrap(buffer, offset - VnetHeader.LENGTH);
            flags |= rx.vnet.isGso() ? PacketPipeline.RX_VNET | PacketPipeline.RX_GSO : PacketPipeline.RX_VNET;
        }
        if ((socketFlags & FrameHandler.CHECKSUM_PARTIAL) != 0)
        {
            flags |= PacketPipeline.RX_CHECKSUM_PARTIAL;
        }
        if ((socketFlags & FrameHandler.TRUNCATED) != 0)
        {
            flags |= PacketPipeline.RX_TRUNCATED;
        }
        if ((socketFlags & FrameHandler.VLAN_VALID) != 0)
        {
            flags |= PacketPipeline.RX_VLAN;
        }
        return flags;
    }

    /**
     * Pins the worker's thread to a CPU when it starts.
     *
     * @param cpu a CPU the process may run on, or -1 for no pinning.
     * @return this.
     */
    public DataplaneAgent pinTo(final int cpu)
    {
        this.cpu = cpu;
        return this;
    }

    @Override
    public void onStart()
    {
        if (cpu >= 0)
        {
            CpuAffinity.pinCurrentThread(cpu);
        }
        now = System.nanoTime();
        lastExpiry = now;
    }

    @Override
    public int doWork()
    {
        now = System.nanoTime();
        // First pass: start the flow-table loads of both batches so their cache misses overlap.
        clientSocket.peek(prefetchHandler, RX_BATCH);
        serverSocket.peek(prefetchHandler, RX_BATCH);
        final int frames = clientSocket.receive(clientHandler, RX_BATCH) + serverSocket.receive(serverHandler, RX_BATCH);
        // Two clock reads per batch that moved frames (none per frame, none when idle): the
        // busy-time accounting of capacity, split into lb's own work and the kicks' kernel transmit.
        final long kickStart = frames > 0 ? System.nanoTime() : 0;
        serverSocket.flush();
        clientSocket.flush();
        if (frames > 0)
        {
            final long end = System.nanoTime();
            counters.busyNanos.getAndAddRelease(end - now);
            counters.txKickNanos.getAndAddRelease(end - kickStart);
            counters.busyCycles.incrementRelease();
        }
        int work = frames;
        if (!serverSocket.isFlushed() || !clientSocket.isFlushed())
        {
            // The kernel left queued frames unsent (socket buffer full): kick again next cycle
            // instead of sleeping on them until the next frame arrives.
            work++;
        }

        work += commands.read(commandHandler, COMMAND_BATCH);
        if (applier.removingCount() > 0)
        {
            applier.reapRemoved(now);
        }
        if (applier.poolsChanged())
        {
            // Rebuilds (a Maglev table) happen here, between batches, not on the next packet.
            pipeline.services().forEach(s -> s.scheduler().refresh());
        }

        if (now - lastKernelStats > KERNEL_STATS_INTERVAL_NANOS)
        {
            lastKernelStats = now;
            countKernelDrops();
        }

        final long elapsed = now - lastExpiry;
        final FlowTable flows = pipeline.flows();
        final long slice = Math.min(MAX_EXPIRY_SLICE, flows.slotCount() * elapsed / EXPIRY_PASS_NANOS);
        if (slice > 0)
        {
            lastExpiry = now;
            work += pipeline.expire(now, (int)slice);
        }
        return work;
    }

    /** Frames the kernel dropped because a ring was full never reach the pipeline: count them here. */
    private void countKernelDrops()
    {
        clientSocket.pollKernelStatistics();
        serverSocket.pollKernelStatistics();
        final long total = clientSocket.kernelDrops() + serverSocket.kernelDrops();
        if (total > reportedKernelDrops)
        {
            counters.drop(DropReason.RX_RING_OVERFLOW, total - reportedKernelDrops);
            reportedKernelDrops = total;
        }
    }

    @Override
    public void onClose()
    {
        countKernelDrops();
    }

    private void onCommand(final int msgTypeId, final DirectBuffer buffer, final int index, final int length)
    {
        applier.apply(msgTypeId, buffer, index);
    }

    @Override
    public String roleName()
    {
        return name;
    }
}
