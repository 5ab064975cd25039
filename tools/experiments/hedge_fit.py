import json, numpy as np, sys
def load(f):
    d=json.load(open(f)); rows=d['rows']
    def df(r,a,b): return r['diffs'].get(f"{a}|{b}", r['diffs'].get(f"{b}|{a}", np.nan))
    F=np.array([[df(r,'automatic','identity'), df(r,'whole','identity') if 'whole' in r else df(r,'automatic','identity'),
        df(r,'library','identity'), df(r,'automatic','library'),
        r['confidence'].get('kept',1), r['confidence'].get('coverage',1), r['confidence'].get('guess_change',0) or 0,
        r['confidence'].get('prior_change',0) or 0, (r['lib_conf'] or {}).get('closeness',0) or 0] + r['stats'][:8] for r in rows])
    ident=np.array([r['identity'] for r in rows]); auto=np.array([r['automatic'] for r in rows])
    return F, ident, auto, [r['family'] for r in rows], d['alphas']
Ft,it,at,ft,A=load('/tmp/h/ht.json'); Fv,iv,av,fv,_=load('/tmp/h/hv.json')
names="mag_auto mag_whole mag_lib d_auto_lib kept cov gchange pchange closeness".split()+[f"pc{i}" for i in range(8)]
def report(name, a_idx, auto, ident):
    s=auto[np.arange(len(auto)),a_idx]; e=s-ident
    return f"{name}: mean {s.mean():.3f} worse {int((e>0).sum())} worst {e.max():+.2f}"
print(report("train a=1", np.zeros(len(at),int), at, it)); print(report("val a=1", np.zeros(len(av),int), av, iv))
# oracle
print(report("train oracle", at.argmin(1), at, it)); print(report("val oracle", av.argmin(1), av, iv))
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import RidgeCV
na=len(A)
for mdl in ["gbr","ridge"]:
    preds_v=np.zeros((len(av),na)); preds_t=np.zeros((len(at),na))
    for j in range(1,na):
        y=at[:,j]-at[:,0]
        m=GradientBoostingRegressor(n_estimators=150,max_depth=2,learning_rate=0.05,subsample=0.8,random_state=0) if mdl=="gbr" else RidgeCV(alphas=np.logspace(-2,3,20))
        m.fit(Ft,y); preds_v[:,j]=m.predict(Fv)
        # cross-val on train
        from sklearn.model_selection import cross_val_predict
        preds_t[:,j]=cross_val_predict(m,Ft,y,cv=5)
    for margin in [0.0,0.1,0.2]:
        pv=preds_v.copy(); pv[:,1:]+=margin; pt=preds_t.copy(); pt[:,1:]+=margin
        print(mdl, margin, report("train-cv", pt.argmin(1), at, it), "|", report("val", pv.argmin(1), av, iv))
# (the ridge: a closed-form ridge on these features + the template's 64 library components, predicting the change
#  in score from shrinking reading 1 to each strength; 5-fold CV on training, then the validation rows; and single
#  feature threshold rules and a magnitude cap, scanned on training by the objective)
