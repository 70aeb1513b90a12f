package lb.control.appliance;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import lb.control.Log;
import lb.control.health.HealthProber;
import lb.dataplane.io.RawSender;
import lb.dataplane.packet.ArpPacket;
import lb.dataplane.packet.FrameClassifier;
import lb.dataplane.packet.FrameType;
import lb.dataplane.packet.ParsedFrame;
import lb.dataplane.worker.Commands;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

/**
 * The control thread's duty cycle: read the ARP frames the worker passed up (they tell which
 * backends are alive and at which MAC; worker 0 passes them, as all ARP is steered to it), send
 * the ARP probes that are due, and turn health changes into commands on every worker's ring. It
 * never touches dataplane state itself.
 */
final class ControlAgent implements Agent
{
    private final RingBuffer events;
    private final CommandRings commands;
    private final RawSender serverSender;
    private final long serverMac;
    private final int gatewayIp;
    private final HealthProber prober;
    private final AtomicReference<int[]> probedBackends;
    private int[] probing;
    private final ArrayDeque<long[]> undelivered = new ArrayDeque<>();
    private boolean ringFullLogged;
    private final UnsafeBuffer probeFrame = new UnsafeBuffer(new byte[ArpPacket.FRAME_LENGTH]);
    private final UnsafeBuffer command = new UnsafeBuffer(new byte[64]);
    private final ParsedFrame parsed = new ParsedFrame();
    private final MessageHandler eventHandler = this::onEvent;
    private long now;
    private long probeSendFailures;

    /**
     * @param events          ARP frames from worker 0
     * @param commands        the workers' command rings
     * @param probedBackends  the addresses to probe, replaced by the runtime API when backends change
     * @param probeRtts       where each answered probe's round-trip time is recorded
     */
    ControlAgent(final RingBuffer events, final CommandRings commands,
        final RawSender serverSender, final long serverMac, final int gatewayIp,
        final AtomicReference<int[]> probedBackends, final Map<Integer, ApplianceRuntime.ProbeRtt> probeRtts,
        final long probeIntervalNanos, final long probeTimeoutNanos)
    {
        this.events = events;
        this.commands = commands;
        this.serverSender = serverSender;
        this.serverMac = serverMac;
        this.gatewayIp = gatewayIp;
        this.probedBackends = probedBackends;
        this.probing = probedBackends.get();
        this.prober = new HealthProber(probing, probeIntervalNanos, probeTimeoutNanos, this::sendProbe,
            this::onHealthChange, (ip, rtt) -> ApplianceRuntime.probeRtt(probeRtts, ip).record(rtt), Log::info);
    }

    HealthProber prober()
    {
        return prober;
    }

    @Override
    public int doWork()
    {
        now = System.nanoTime();
        final int[] wanted = probedBackends.get();
        if (wanted != probing)
        {
            probing = wanted;
            prober.setBackends(wanted, now);
        }
        int work = deliverHealthChanges();
        work += events.read(eventHandler, 64);
        work += prober.doWork(now);
        return work;
    }

    private void onEvent(final int msgTypeId, final DirectBuffer buffer, final int index, final int length)
    {
        if (msgTypeId == Commands.ARP_FRAME &&
            FrameClassifier.classify(buffer, index, length, parsed) == FrameType.ARP)
        {
            prober.onArp(parsed.senderIp, parsed.senderMac, now);
        }
    }

    private void sendProbe(final int targetIp)
    {
        final int length = ArpPacket.writeRequestFrame(probeFrame, 0, serverMac, gatewayIp, targetIp);
        if (!serverSender.send(probeFrame, 0, length) && probeSendFailures++ == 0)
        {
            Log.info("cannot send ARP probes on " + serverSender.interfaceInfo().name() + ": errno " + serverSender.lastErrno());
        }
    }

    private void onHealthChange(final int ip, final boolean up, final long mac, final long rttNanos)
    {
        // A later change of the same address supersedes an undelivered earlier one.
        undelivered.removeIf(pending -> pending[0] == ip);
        undelivered.add(new long[] {ip, up ? 1 : 0, mac});
        deliverHealthChanges();
    }

    /** The prober reports changes only once: keep each until the workers' rings took it. */
    private int deliverHealthChanges()
    {
        int delivered = 0;
        while (!undelivered.isEmpty())
        {
            final long[] pending = undelivered.peekFirst();
            final int length = Commands.encodeHealth(command, 0, (int)pending[0], pending[1] != 0, pending[2]);
            if (commands.write(Commands.BACKEND_HEALTH, command, 0, length) == null)
            {
                if (!ringFullLogged)
                {
                    ringFullLogged = true;
                    Log.info("command ring full: " + undelivered.size() + " health change(s) wait for room");
                }
                break;
            }
            undelivered.pollFirst();
            ringFullLogged = false;
            delivered++;
        }
        return delivered;
    }

    @Override
    public String roleName()
    {
        return "lb-control";
    }
}
