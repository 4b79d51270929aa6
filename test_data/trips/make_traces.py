#!/usr/bin/env python3
"""Writes the synthetic *.trace files in this folder (deterministic). The .expected snapshots
are reviewed by hand: after regenerating, run `UPDATE_EXPECT=1 cargo test -p trips --test traces`
and read every changed line."""
import datetime as dt, math, os, random
OUT=os.path.dirname(os.path.abspath(__file__))
def t(s): return dt.datetime.fromisoformat(s.replace('Z','+00:00'))
def iso(x): return x.strftime('%Y-%m-%dT%H:%M:%SZ')
LAT_M=111195.0
def lon_m(lat): return LAT_M*math.cos(math.radians(lat))
class W:
    def __init__(s, name, header):
        s.lines=[f'# {l}' for l in header.strip().split('\n')]+['# time, lat, lon, ignition, odometer_m, private, driver']
        s.name=name
    def p(s, time, lat=None, lon=None, ign=None, odo=None, priv=None, drv=None, note=None):
        f=[iso(time), '' if lat is None else f'{lat:.5f}', '' if lon is None else f'{lon:.5f}',
           '' if ign is None else ('1' if ign else '0'), '' if odo is None else f'{odo:.0f}',
           '' if priv is None else ('1' if priv else '0'), drv or '']
        while f and f[-1]=='': f.pop()
        s.lines.append(', '.join(f) + (f'  # {note}' if note else ''))
    def raw(s, l): s.lines.append(l)
    def save(s):
        open(os.path.join(OUT, s.name+'.trace'),'w').write('\n'.join(s.lines)+'\n')

def step(lat, lon, metres, heading_deg):
    h=math.radians(heading_deg)
    return lat + metres*math.cos(h)/LAT_M, lon + metres*math.sin(h)/lon_m(lat)

# 1. ignition commute with a flap and an idle-in-place ignition-on
w=W('ignition_commute', '''Teltonika with ignition, odometer and iButton: home -> office.
Parked at home (ignition off), ignition on 07:00, ~12.5 km north-east in 15 min, the engine
stalls at a light for 20 s (ignition flapping: ignored), ignition off 07:15 at the office.
At 07:40 the ignition is on for 5 min without the car moving: idling is no trip.''')
lat,lon,odo=59.91000,10.75000,120000.0
T=t('2024-03-04T06:50:00Z')
w.p(T,lat,lon,False,odo); w.p(T+dt.timedelta(minutes=5),lat+0.00002,lon,False,odo)
T=t('2024-03-04T07:00:00Z')
w.p(T,lat,lon,True,odo,0,'D17', 'ignition on')
for i in range(1,31):
    tt=T+dt.timedelta(seconds=30*i)
    if i==12:
        w.p(tt,lat,lon,False,odo,0,None,'stalled at a light')
        w.p(tt+dt.timedelta(seconds=20),lat,lon,True,odo,0,None,'engine restarted')
        continue
    lat,lon=step(lat,lon,420,45); odo+=430
    ign = i<30
    w.p(tt,lat,lon,ign,odo,0,None,'ignition off at the office' if not ign else None)
end=T+dt.timedelta(minutes=15)
w.p(end+dt.timedelta(minutes=2),lat+0.0001,lon,False,odo, note='parked, GPS wanders 11 m')
w.p(t('2024-03-04T07:40:00Z'),lat,lon,True,odo,note='ignition on, idling')
for m in range(1,5): w.p(t('2024-03-04T07:40:00Z')+dt.timedelta(minutes=m),lat+0.00003*m,lon,True,odo)
w.p(t('2024-03-04T07:45:00Z'),lat,lon,False,odo,note='ignition off')
w.raw('@advance 2024-03-04T08:00:00Z')
w.save()

# 2. motion only (phone)
w=W('motion_only','''A phone (OsmAnd protocol): no ignition, no odometer. Parked, then drives ~5 km
south-west in 10 min (a point every 30 s), then stands at the customer reporting every minute.
The trip starts with the first point that left the parking spot and ends when the car arrived.''')
lat,lon=59.93000,10.80000
T=t('2024-03-05T08:00:00Z')
for m in range(0,5): w.p(T+dt.timedelta(minutes=m),lat+random.Random(m).uniform(-1,1)*0.0001,lon)
T=t('2024-03-05T08:05:00Z')
for i in range(1,21):
    lat,lon=step(lat,lon,250,225)
    w.p(T+dt.timedelta(seconds=30*i),lat,lon)
arr=T+dt.timedelta(seconds=600)
for m in range(1,7): w.p(arr+dt.timedelta(minutes=m),lat+0.00008*(m%2),lon-0.0001*(m%3))
w.save()

# 3. urban stop and go
w=W('urban_stop_and_go','''A phone in city traffic: short hops between red lights, standing 60-150 s at each
light with the GPS wandering up to ~25 m, a point every 15 s. Lights never end the trip (shorter
than 3 min); the final stop does. Distance counts the hops, not the wandering.''')
lat,lon=59.91300,10.73800
T=t('2024-03-06T15:00:00Z')
w.p(T,lat,lon, note='parked')
w.p(T+dt.timedelta(seconds=60),lat,lon)
tt=T+dt.timedelta(seconds=60)
rng=random.Random(3)
for leg,(dist,stand) in enumerate([(400,90),(300,150),(600,60),(250,120),(500,0)]):
    n=int(dist/100)
    for k in range(n):
        tt+=dt.timedelta(seconds=15); lat,lon=step(lat,lon,100,90 if leg%2==0 else 0)
        w.p(tt,lat,lon)
    for k in range(stand//15):
        tt+=dt.timedelta(seconds=15)
        a=rng.uniform(0,360); r=rng.uniform(0,25)
        jl,jo=step(lat,lon,r,a); w.p(tt,jl,jo, note='red light' if k==0 else None)
arrive=tt
for k in range(1,17):
    tt+=dt.timedelta(seconds=15); a=rng.uniform(0,360); r=rng.uniform(0,25)
    jl,jo=step(lat,lon,r,a); w.p(tt,jl,jo, note='parked at the destination' if k==1 else None)
w.save()

# 4. parked jitter
w=W('parked_jitter','''A phone left in a parked car for two hours: the GPS wanders up to ~45 m around
the spot, one fix jumps 80 m and back (multipath), one is 30 km off (implausible: dropped).
Nothing here is a trip or a deviation.''')
lat,lon=59.95000,10.90000
T=t('2024-03-07T10:00:00Z')
rng=random.Random(4)
for m in range(0,121):
    tt=T+dt.timedelta(minutes=m)
    if m==30: jl,jo=step(lat,lon,80,130); w.p(tt,jl,jo,note='80 m multipath'); continue
    if m==70: w.p(tt,lat+0.27,lon,note='30 km off: implausible'); continue
    a=rng.uniform(0,360); r=rng.uniform(0,45); jl,jo=step(lat,lon,r,a); w.p(tt,jl,jo)
w.save()

# 5. tunnel gap
w=W('tunnel_gap','''Teltonika with ignition and odometer through two tunnels. In the first (07:10-07:18)
the device keeps sending records without a fix: a no_fix deviation. Before the second
(07:30-07:37) it falls silent altogether: a device_silent deviation. Neither ends the trip;
both are recorded with the km across by odometer. A 3-minute gap (07:45) is no deviation.''')
lat,lon,odo=60.10000,10.20000,50000.0
T=t('2024-04-10T07:00:00Z')
w.p(T-dt.timedelta(minutes=1),lat,lon,False,odo)
w.p(T,lat,lon,True,odo, note='ignition on')
tt=T
def drive(secs, every, speed, heading, fix=True):
    global tt,lat,lon,odo
    for k in range(secs//every):
        tt+=dt.timedelta(seconds=every); lat,lon=step(lat,lon,speed*every,heading); odo+=speed*every*1.02
        if fix: w.p(tt,lat,lon,True,odo)
        else: w.p(tt,None,None,True,odo, note='no fix' if k==0 else None)
drive(600,60,20,0)       # to 07:10
drive(480,60,20,10,fix=False)  # tunnel to 07:18
drive(720,60,20,0)       # to 07:30
for k in range(7):       # silent 07:30-07:37
    lat,lon=step(lat,lon,20*60,350); odo+=20*60*1.02; tt+=dt.timedelta(seconds=60)
w.raw('# device silent 07:30 - 07:37')
drive(480,60,20,0)       # to 07:45
for k in range(2):
    lat,lon=step(lat,lon,20*60,0); odo+=20*60*1.02; tt+=dt.timedelta(seconds=60)
w.raw('# 2 minutes without points')
drive(300,60,20,0)       # to 07:52
w.p(tt+dt.timedelta(seconds=20),lat,lon,False,odo, note='ignition off')
w.raw('@advance 2024-04-10T08:00:00Z')
w.save()

# 6. out of order buffered
w=W('out_of_order_buffered','''Teltonika with ignition and odometer losing coverage mid-trip. Live records until
09:05; from 09:05 to 09:20 the device buffers. At 09:20 coverage returns and the live records
come first (a deviation 09:05 -> 09:20 is reported meanwhile, and the trip closes at the
ignition off at 09:30). Then the buffered records arrive, newest first in one batch: the
deviation is withdrawn and the trip revised (more points, same odometer km). Then a
duplicate is ignored, one more late record revises the trip again, and a straggler from the
day before, outside the 6 h window, is dropped.''')
lat,lon,odo=59.80000,10.60000,77000.0
T=t('2024-03-08T09:00:00Z')
w.p(T-dt.timedelta(minutes=2),lat,lon,False,odo)
w.p(T,lat,lon,True,odo, drv='D4', note='ignition on')
buffered=[]
tt=T
for k in range(1,31):
    tt=T+dt.timedelta(minutes=k); lat,lon=step(lat,lon,600,200); odo+=610
    row=(tt,lat,lon,k<30,odo)
    if 5<k<20: buffered.append(row)
    else: w.p(*row, note='ignition off' if k==30 else None)
w.raw('@advance 2024-03-08T09:40:00Z')
w.raw('@batch  # the device empties its buffer, newest first')
for row in reversed(buffered): w.p(*row)
w.raw('@end')
w.raw('2024-03-08T09:10:00Z, 59.74929, 10.56334, 1, 83100  # sent twice: a duplicate, ignored')
w.raw('2024-03-08T09:29:30Z, 59.65042, 10.49200, 1, 94990  # one more late record: trip revised again')
w.p(t('2024-03-07T20:00:00Z'),59.8,10.6,False,76000, note='a straggler from last night')
w.save()

# 7. private errand
w=W('private_errand','''A phone with privacy mode (SPEC: "Privacy mode"). A business trip to a customer,
then the driver switches privacy mode on for a doctor's visit (a private trip: the driving
log keeps date and km only), then switches it off and drives back to the customer: business.''')
lat,lon=59.92000,10.70000
T=t('2024-03-11T11:00:00Z')
w.p(T,lat,lon); tt=T
def mdrive(n, every, m, heading, priv=None, note=None):
    global tt,lat,lon
    for k in range(n):
        tt+=dt.timedelta(seconds=every); lat,lon=step(lat,lon,m,heading); w.p(tt,lat,lon,priv=priv, note=note if k==0 else None)
def stand(n, every, priv=None, note=None):
    global tt
    for k in range(n):
        tt+=dt.timedelta(seconds=every); w.p(tt,lat,lon,priv=priv, note=note if k==0 else None)
mdrive(12,30,350,90)
stand(10,60, note='at the customer')
stand(1,60,priv=True, note='privacy mode on')
mdrive(8,30,300,180,priv=True)
stand(5,60,priv=True, note="at the doctor's")
stand(25,60,priv=True)
stand(1,60,priv=False, note='privacy mode off')
mdrive(8,30,300,0)
stand(5,60)
w.save()

# 8. midnight (summer)
w=W('midnight','''A trip over midnight in summer (UTC+2): 23:45 local on 12 June to 00:40 local on
13 June. One trip, filed under 12 June (the date it started).''')
lat,lon,odo=60.39,5.32,9000.0
T=t('2024-06-12T21:45:00Z')
w.p(T-dt.timedelta(minutes=1),lat,lon,False,odo)
w.p(T,lat,lon,True,odo,note='23:45 local')
tt=T
for k in range(1,56):
    tt=T+dt.timedelta(minutes=k); lat,lon=step(lat,lon,900,60); odo+=905
    w.p(tt,lat,lon,k<55,odo, note='00:40 local, ignition off' if k==55 else ('midnight local' if k==15 else None))
w.raw('@advance 2024-06-12T23:00:00Z')
w.save()

# 9. month boundary (winter)
w=W('month_boundary','''Month and year boundaries in winter (UTC+1). A trip 23:50 local 31 January ->
00:20 local 1 February (filed under January); then a trip at 00:30 local 1 February, which
is still 31 January in UTC: filed under February.''')
lat,lon,odo=63.43,10.39,300000.0
def itrip(start, minutes, heading, note):
    global lat,lon,odo
    w.p(start-dt.timedelta(minutes=1),lat,lon,False,odo)
    w.p(start,lat,lon,True,odo,note=note)
    for k in range(1,minutes+1):
        lat,lon=step(lat,lon,700,heading); odo+=700
        w.p(start+dt.timedelta(minutes=k),lat,lon,k<minutes,odo)
itrip(t('2024-01-31T22:50:00Z'),30,30,'23:50 local 31 January')
itrip(t('2024-01-31T23:30:00Z'),15,210,'00:30 local 1 February')
w.raw('@advance 2024-02-01T01:00:00Z')
w.save()

# 10. privacy switched on mid-drive (issue 10)
w=W('privacy_mid_drive','''Privacy mode switched on while driving (issue 10: 3.55 km of business driving plus
1.44 km after the switch became one 5.0 km private trip). A Teltonika unit with ignition and
odometer drives 3.5 km from the depot for work, the driver switches privacy on without
stopping and drives 1.4 km more, ignition off. The trip splits at the switch: a 3.5 km business
trip with its places, and a 1.4 km private trip (the driving log keeps its date and km). Then
privacy is switched off mid-drive on the way back: the private part and a business part again.''')
lat,lon,odo=59.92750,10.84520,500000.0
T=t('2024-03-12T08:00:00Z')
w.p(T-dt.timedelta(minutes=2),lat,lon,False,odo,0)
w.p(T,lat,lon,True,odo,0,note='ignition on, business')
for i in range(1,36):
    lat,lon=step(lat,lon,100,270); odo+=100
    w.p(T+dt.timedelta(seconds=10*i),lat,lon,True,odo,0)
for i in range(36,50):
    lat,lon=step(lat,lon,100,270); odo+=100
    w.p(T+dt.timedelta(seconds=10*i),lat,lon,True,odo,1,note='privacy on while driving' if i==36 else None)
T2=T+dt.timedelta(seconds=500)
w.p(T2,lat,lon,False,odo,1,note='ignition off')
w.p(T2+dt.timedelta(minutes=2),lat,lon,False,odo,1)
T=t('2024-03-12T09:00:00Z')
w.p(T,lat,lon,True,odo,1,note='ignition on, still private')
for i in range(1,30):
    lat,lon=step(lat,lon,100,90); odo+=100
    w.p(T+dt.timedelta(seconds=10*i),lat,lon,True,odo,1 if i<10 else 0,note='privacy off while driving' if i==10 else None)
T2=T+dt.timedelta(seconds=300)
w.p(T2,lat,lon,False,odo,0,note='ignition off')
w.raw('@advance 2024-03-12T10:00:00Z')
w.save()

# 11. odometer reset and jump (issue 12)
w=W('odometer_reset_jump','''Odometer integrity (issue 12: "Km-stand 10 091,8 -> 10 000,5" beside "Ingen avvik").
A Teltonika unit with a vehicle odometer: a 3 km trip by odometer; mid-way through the second
trip the odometer is reset from 10 093.4 km to 10 000.5 km (a deviation with both readings; the
trip's km come from the track); while parked the odometer jumps by 500 km in two minutes (a
deviation with both readings); the third trip is by odometer again from the new reference.''')
lat,lon,odo=59.91000,10.75000,10090400.0
def otrip(start, n, heading, note, reset_at=None, reset_to=None):
    global lat,lon,odo
    w.p(start-dt.timedelta(minutes=1),lat,lon,False,odo)
    w.p(start,lat,lon,True,odo,note=note)
    for k in range(1,n+1):
        lat,lon=step(lat,lon,100,heading); odo+=100
        nt=None
        if reset_at is not None and k==reset_at:
            odo=reset_to; nt='odometer reset'
        w.p(start+dt.timedelta(seconds=10*k),lat,lon,k<n,odo,note=nt)
otrip(t('2024-03-13T07:00:00Z'),30,0,'first trip, odometer 10 090.4 km')
otrip(t('2024-03-13T08:00:00Z'),30,90,'second trip',reset_at=15,reset_to=10000500.0)
w.p(t('2024-03-13T08:30:00Z'),lat,lon,False,odo,note='parked')
odo+=500000.0
w.p(t('2024-03-13T08:32:00Z'),lat,lon,False,odo,note='odometer jumps 500 km while parked')
otrip(t('2024-03-13T09:00:00Z'),20,180,'third trip')
w.raw('@advance 2024-03-13T10:00:00Z')
w.save()

# 12. one vehicle, a tracker and a phone, a late phone batch (issue 12)
w=W('tracker_and_phone','''One vehicle, two devices (issue 12: a fixed tracker plus a phone with late uploads lost a
trip and got 79 device_silent deviations). Rank 0 is the Teltonika tracker (ignition, odometer,
a point every 30 s while driving, every 5 min parked); rank 1 the driver's phone (OsmAnd: no
ignition, no vehicle odometer, its GPS 15-25 m off the tracker's, a point every 20 s). The
tracker records a 6 km trip live. The phone's points for the same hours arrive afterwards in one
late batch: they lie within the tracker's cover, so the tracker's trip stays as it was, and no
deviation appears. Later the tracker loses power for 20 minutes in the middle of a trip; the
phone's live points fill the gap: one trip, no device_silent deviation.''')
lat,lon,odo=59.93000,10.80000,2000000.0
T=t('2024-03-14T07:00:00Z')
phone=[]
def ph(time, lat, lon):
    phone.append((time, lat+0.00015, lon+0.0002))
for k in range(0,4):
    w.p(T-dt.timedelta(minutes=20-5*k),lat,lon,False,odo,note='parked' if k==0 else None)
for s_ in range(0,1200,20):
    ph(T-dt.timedelta(minutes=20)+dt.timedelta(seconds=s_),lat,lon)
w.p(T,lat,lon,True,odo,note='ignition on')
for k in range(1,21):
    lat,lon=step(lat,lon,300,45); odo+=300
    w.p(T+dt.timedelta(seconds=30*k),lat,lon,k<20,odo,note='ignition off' if k==20 else None)
    for j in (5,25):
        ph(T+dt.timedelta(seconds=30*(k-1)+j),*step(lat,lon,-300+10*j,45))
end=T+dt.timedelta(seconds=600)
for k in range(1,7):
    w.p(end+dt.timedelta(minutes=5*k),lat,lon,False,odo)
for s_ in range(20,1800,20):
    ph(end+dt.timedelta(seconds=s_),lat,lon)
w.raw('@batch')
w.raw('# the phone uploads its buffered points late')
for (tt,a,b) in phone:
    w.p(tt,a,b,drv=None,note=None) if False else w.lines.append(f'{iso(tt)}, {a:.5f}, {b:.5f}, , , , , 1')
w.raw('@end')
T=t('2024-03-14T09:00:00Z')
w.p(T,lat,lon,True,odo,note='ignition on')
for k in range(1,61):
    lat,lon=step(lat,lon,200,180); odo+=200
    tt=T+dt.timedelta(seconds=30*k)
    if 10<=k<50:
        if k==10: w.raw('# the tracker loses power; the phone fills the gap')
        if k%2==0: w.lines.append(f'{iso(tt)}, {lat+0.00015:.5f}, {lon+0.0002:.5f}, , , , , 1')
        continue
    if k==50: w.raw('# the tracker is back')
    w.p(tt,lat,lon,k<60,odo,note='ignition off' if k==60 else None)
w.raw('@advance 2024-03-14T11:00:00Z')
w.save()
